import Foundation
import Testing

/// What one run of the built `lfosa` binary printed and how it exited.
struct CLIOutcome {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the `lfosa` binary built next to the test bundle with `arguments`, killing it after
/// `timeout` seconds so a hang fails the test instead of stalling the suite.
func runLfosa(_ arguments: [String], timeout: Double = 120, environment: [String: String] = [:],
              sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIOutcome {
    let binary = try #require(StoreDurabilityTests.lfosaBinary(), "lfosa binary not found next to the test bundle",
                              sourceLocation: sourceLocation)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    StoreDurabilityTests.killIfStillRunning(process, after: timeout)
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIOutcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
}
