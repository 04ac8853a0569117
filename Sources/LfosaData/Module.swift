// Module LfosaData: see README Architecture.
