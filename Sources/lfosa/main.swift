import LfosaCLI

LfosaCommand.main()
