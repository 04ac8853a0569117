/// A trainable tensor with its gradient and optimiser state.
///
/// Gradients accumulate across `backward` calls until `zeroGradient()`.
public final class Parameter {
    public let name: String
    public var shape: [Int]
    /// The values. Every change (assignment or in-place) bumps `generation`; the observer does
    /// not read the old value, so in-place updates stay in place.
    public var value: [Float] { didSet { generation &+= 1 } }
    /// Counts changes of `value`: derived data (a layer's packed copy of its weights) is
    /// current while the generation it was made from is.
    public private(set) var generation: UInt64 = 0
    public var gradient: [Float]
    /// Momentum buffer of SGD (lazily sized).
    public var momentum: [Float] = []
    /// Whether weight decay applies (PyTorch's default applies it to every parameter).
    public var decays: Bool

    public init(name: String, shape: [Int], value: [Float], decays: Bool = true) {
        precondition(shape.reduce(1, *) == value.count)
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = [Float](repeating: 0, count: value.count)
        self.decays = decays
    }

    public var count: Int { value.count }

    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { g in
            for i in g.indices { g[i] = 0 }
        }
    }
}

/// Non-trainable state saved with a model (batch-norm running statistics).
public final class Buffer {
    public let name: String
    public var value: [Float]
    public init(name: String, value: [Float]) {
        self.name = name
        self.value = value
    }
}
