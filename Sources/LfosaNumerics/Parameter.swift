/// A trainable tensor with its gradient and optimiser state.
///
/// Gradients accumulate across `backward` calls until `zeroGradient()`.
public final class Parameter {
    public let name: String
    public var shape: [Int]
    public var value: [Float]
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
