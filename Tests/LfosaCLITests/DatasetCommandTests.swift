import Foundation
import Testing
import LfosaData

/// `lfosa dataset` as a user runs it: the report for a readable folder (skipped files with
/// reasons), and one stderr line plus a non-zero exit for an unusable source.
@Suite struct DatasetCommandTests {
    func lfosa(_ arguments: [String]) throws -> CLIOutcome { try runLfosa(arguments, timeout: 60) }

    @Test func folderReportAndUnusableSource() throws {
        let root = NSTemporaryDirectory() + "lfosa-dataset-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (folder, count) in [("cat", 3), ("dog", 2)] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
            for i in 0..<count {
                let pixels = (0..<(4 * 4 * 3)).map { UInt8(($0 * 7 + i * 31 + folder.count * 13) & 0xFF) }
                try PNGCodec.write(RasterImage(width: 4, height: 4, channels: 3, pixels: pixels), to: "\(root)/\(folder)/\(i).png")
            }
        }
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: "\(root)/cat/broken.png"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: "\(root)/README.txt"))

        let ok = try lfosa(["dataset", root, "--no-cache"])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        #expect(ok.stdout.contains("cat") && ok.stdout.contains("dog"))
        #expect(ok.stdout.contains("broken.png"))          // skipped, with its reason
        #expect(ok.stdout.contains("5"))                   // five images read

        let missing = try lfosa(["dataset", root + "/nope"])
        #expect(missing.status != 0)
        let lines = missing.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(missing.stderr.contains(root + "/nope"))

        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try lfosa(["dataset", empty])
        #expect(none.status != 0)
        #expect(none.stderr.split(separator: "\n").count == 1 && none.stderr.contains(empty))
    }
}
