// Module LfosaTerminal: see README Architecture.
