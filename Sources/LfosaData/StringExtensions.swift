import Foundation

extension StringProtocol {
    /// Without leading and trailing characters from `set`.
    func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

extension Result where Failure == DataError {
    /// The failure's problem text, or nil on success.
    var failureProblem: String? {
        if case .failure(let e) = self { return e.problem }
        return nil
    }
}

/// `0xAB` for a byte.
func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
}

extension String {
    /// The string with the first occurrence of `target` replaced (unchanged if absent).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
