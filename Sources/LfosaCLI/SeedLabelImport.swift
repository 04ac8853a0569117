import Foundation
import LfosaData
import LfosaStore

/// Seed labels for a labeling session: a CSV `path,label` file or a folder of class subfolders.
///
/// Items are matched by content (the hash of the file's bytes, as the dataset module names
/// items), so a seed file may point at copies of the images anywhere on disk. Relative CSV
/// paths are taken relative to the CSV file's folder, then to the source folder. Every seed
/// must name a session class or `unknown` and an image of the source; otherwise nothing is
/// imported and the error names the file, the first problem and how many there are.
enum SeedLabelImport {
    /// Imports the seeds at `path` into `store` (items of `pool` are registered first).
    /// Returns how many verdicts were added (importing the same file twice adds none).
    static func run(path: String, pool: ImagePool, sourceRoot: String, store: LabelStore,
                    annotator: String) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreError.invalidSeedLabels(file: path, problemCount: 1, firstProblem: "no such file or folder")
        }
        let rows: [SeedLabels.Row]
        var bases: [String] = []
        if isDirectory.boolValue {
            rows = try SeedLabels.rowsFromClassFolders(root: path)
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StoreError.invalidSeedLabels(file: path, problemCount: 1, firstProblem: "cannot be read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw StoreError.invalidSeedLabels(file: path, problemCount: 1, firstProblem: "is not UTF-8 text")
            }
            rows = try SeedLabels.parseCSV(text, file: path)
            bases = [(path as NSString).deletingLastPathComponent, sourceRoot]
        }
        let known = Set(pool.identities)
        var byPath: [String: String] = [:]
        for (i, p) in pool.paths.enumerated() {
            if let p { byPath[(p as NSString).standardizingPath] = pool.identities[i] }
        }
        func identity(_ raw: String) -> String? {
            let candidates = raw.hasPrefix("/") ? [raw] : bases.map { ($0 as NSString).appendingPathComponent(raw) } + [raw]
            for candidate in candidates {
                let standard = (candidate as NSString).standardizingPath
                if let id = byPath[standard] { return id }
                if let bytes = FileManager.default.contents(atPath: standard) {
                    let id = bytes.withUnsafeBytes { ContentHash.hex(ContentHash.xxh64($0)) }
                    return known.contains(id) ? id : nil
                }
            }
            return nil
        }
        let resolved = try SeedLabels.resolve(rows, configuration: store.configuration, file: path, identity: identity)
        var seen = Set<String>()
        var items: [(identity: String, path: String?)] = []
        for (i, id) in pool.identities.enumerated() where seen.insert(id).inserted {
            items.append((identity: id, path: pool.paths[i].map { AnnotationSession.absolutePath($0) }))
        }
        try store.upsertItems(items)
        return try store.importSeedLabels(resolved, round: 0, annotator: annotator, at: Date())
    }
}
