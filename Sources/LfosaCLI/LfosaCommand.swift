import ArgumentParser

/// The `lfosa` root command.
public struct LfosaCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lfosa",
        abstract: "Open-set image annotation with active learning (LfOSA, CVPR 2022).",
        subcommands: [BenchCommand.self, DatasetCommand.self, SimulateCommand.self, ExportCommand.self, StatusCommand.self, StoreTortureCommand.self, LabelCommand.self, DemoCommand.self]
    )
    public init() {}
}
