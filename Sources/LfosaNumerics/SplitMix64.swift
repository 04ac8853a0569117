/// A small, fast, seedable random number generator (SplitMix64).
///
/// Every random choice in lfosa goes through an injected generator of this type, so a run with
/// the same seed repeats exactly. The sequence is fixed by the algorithm (Steele, Lea & Flood
/// 2014) and does not depend on the platform.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1).
    @inlinable
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Double in [0, 1).
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box–Muller; one value per call, deterministic).
    public mutating func nextNormal() -> Float {
        var u1 = nextUnitDouble()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextUnitDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// A uniform integer in 0..<bound (bound > 0), without modulo bias.
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }

    /// A new generator whose stream is independent of this one (for sub-tasks).
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }
}

/// Fisher–Yates shuffle driven by an explicit generator.
public func seededShuffle<T>(_ array: inout [T], using rng: inout SplitMix64) {
    if array.count < 2 { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
        let j = rng.nextInt(below: i + 1)
        if i != j { array.swapAt(i, j) }
    }
}
