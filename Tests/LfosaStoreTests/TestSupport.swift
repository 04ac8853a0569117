import Foundation
import Testing
@testable import LfosaStore

/// A fresh temporary directory, removed when the value is deallocated.
final class TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "lfosa-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func sub(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A three-class configuration with a source directory `source`.
func sampleConfiguration(source: String = "/data/pets") -> SessionConfiguration {
    SessionConfiguration(source: source, classNames: ["cat", "dog", "bird"], classKeys: ["c", "d", "b"],
                         strategy: "lfosa", strategyParameters: ["batch": "50", "temperature": "0.5"],
                         seed: UInt64.max - 7, annotator: "ada")
}

/// Creates a session in `dir` with items `img0…img(n-1)` at paths `pics/img<i>.png`.
func makeSession(_ dir: TemporaryDirectory, items count: Int = 10,
                 configuration: SessionConfiguration = sampleConfiguration()) throws -> LabelStore {
    let store = try LabelStore.create(sessionDirectory: dir.sub("s.lfosa"), configuration: configuration,
                                      at: Date(timeIntervalSince1970: 1_000))
    try store.upsertItems((0..<count).map { (identity: "h\($0)", path: "pics/img\($0).png") },
                          at: Date(timeIntervalSince1970: 1_000))
    return store
}

/// Seconds since 1970 as a Date, for readable fixed times.
func t(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

/// Asserts `body` throws a StoreError equal to `expected`, and that its message is one line.
func expectStoreError<T>(_ expected: StoreError, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected \(expected), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error == expected, sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}

/// The StoreError `body` throws, or nil (recording an issue) if it throws none or another kind.
func storeError<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) -> StoreError? {
    do {
        _ = try body()
        Issue.record("expected a StoreError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a StoreError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
