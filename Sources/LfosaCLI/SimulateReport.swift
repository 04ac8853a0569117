import Foundation

/// Tables and files of a finished simulation: per-round mean ± std over seeds, CSV, JSON.
enum SimulateReport {
    /// Mean and sample standard deviation (0 for one value); nil when empty.
    static func meanStd(_ values: [Double]) -> (mean: Double, std: Double)? {
        guard !values.isEmpty else { return nil }
        let m = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (m, 0) }
        let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
        return (m, v.squareRoot())
    }

    /// Strategies in first-seen order.
    static func strategies(_ rows: [SimulateRound]) -> [String] {
        var seen: [String] = []
        for r in rows where !seen.contains(r.strategy) { seen.append(r.strategy) }
        return seen
    }

    /// Mean ± std of `metric` per round for one strategy.
    static func series(_ rows: [SimulateRound], strategy: String, _ metric: (SimulateRound) -> Double?) -> [(round: Int, mean: Double, std: Double)] {
        let mine = rows.filter { $0.strategy == strategy }
        let rounds = Set(mine.map(\.round)).sorted()
        return rounds.compactMap { q in
            meanStd(mine.filter { $0.round == q }.compactMap(metric)).map { (q, $0.mean, $0.std) }
        }
    }

    /// The human table printed at the end.
    static func table(_ rows: [SimulateRound]) -> String {
        var out = ""
        func cell(_ v: (mean: Double, std: Double)?, percent: Bool = false, digits: Int = 3) -> String {
            guard let v else { return "-" }
            return percent ? String(format: "%.1f±%.1f", v.mean * 100, v.std * 100)
                : String(format: "%.\(digits)f±%.\(digits)f", v.mean, v.std)
        }
        for s in strategies(rows) {
            let mine = rows.filter { $0.strategy == s }
            let seeds = Set(mine.map(\.seed)).sorted()
            out += "\n\(s)  (seeds \(seeds.map(String.init).joined(separator: ",")); mean±std)\n"
            out += "round  labeled  invalid  precision    recall       recall_paper  accuracy %   train_s       select_s\n"
            for q in Set(mine.map(\.round)).sorted() {
                let r = mine.filter { $0.round == q }
                let lab = meanStd(r.map { Double($0.labeled) })!, inv = meanStd(r.map { Double($0.invalid) })!
                out += String(format: "%5d  %7.0f  %7.0f  ", q, lab.mean, inv.mean)
                out += [cell(meanStd(r.compactMap(\.precision))), cell(meanStd(r.compactMap(\.recall))),
                        cell(meanStd(r.compactMap(\.recallPaper))), cell(meanStd(r.compactMap(\.accuracy)), percent: true),
                        cell(meanStd(r.map(\.trainSeconds)), digits: 1), cell(meanStd(r.compactMap(\.selectSeconds)), digits: 2)]
                    .map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined(separator: " ") + "\n"
            }
            let perSeedMeanPrecision = seeds.compactMap { sd in meanStd(mine.filter { $0.seed == sd }.compactMap(\.precision))?.mean }
            let lastRound = mine.map(\.round).max() ?? 0
            let finalAcc = mine.filter { $0.round == lastRound }.compactMap(\.accuracy)
            let totalTime = seeds.map { sd in mine.filter { $0.seed == sd }.reduce(0.0) { $0 + $1.trainSeconds + ($1.selectSeconds ?? 0) } }
            out += "mean precision over queries: \(cell(meanStd(perSeedMeanPrecision)))   final accuracy: \(cell(meanStd(finalAcc), percent: true)) %"
            out += "   train+select time per seed: \(cell(meanStd(totalTime), digits: 0)) s\n"
        }
        return out
    }

    static func csv(_ rows: [SimulateRound]) -> String {
        func f(_ v: Double?, _ digits: Int = 4) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "" }
        var out = "strategy,seed,round,labeled,invalid,queried,precision,recall,recall_paper,accuracy,train_s,select_s,select_steal_s\n"
        for r in rows {
            out += "\(r.strategy),\(r.seed),\(r.round),\(r.labeled),\(r.invalid),\(r.queried.map(String.init) ?? ""),"
            out += "\(f(r.precision)),\(f(r.recall)),\(f(r.recallPaper)),\(f(r.accuracy)),\(f(r.trainSeconds, 2)),\(f(r.selectSeconds, 2)),\(f(r.selectStealSeconds, 2))\n"
        }
        return out
    }

    /// `results.json`: the settings and every row.
    static func json(_ rows: [SimulateRound], settings: [String: String]) throws -> Data {
        struct Document: Codable {
            var settings: [String: String]
            var rows: [SimulateRound]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(Document(settings: settings, rows: rows))
    }
}
