// Module LfosaStore: see README Architecture.
