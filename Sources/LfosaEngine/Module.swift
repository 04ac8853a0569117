// Module LfosaEngine: see README Architecture.
