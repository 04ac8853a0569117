/// A dense Float32 tensor: a shape and its row-major values.
///
/// Images enter networks as NCHW (`[N, C, H, W]`). Inside convolutional stacks feature maps
/// are channel-major, `[C, N, H, W]`, so that a convolution over a whole batch is one matrix
/// product and batch normalisation reads one contiguous plane per channel; `ChannelMajor` at
/// the start of a network and `Flatten`/`GlobalAveragePool` at the end convert. Dense layers
/// take `[N, features]`.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor wrapping existing values; `data.count` must equal the shape's element count.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    /// A tensor whose values are left for `fill` to write (every element must be written).
    @inlinable
    public init(shape: [Int], unsafeUninitialized fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: n) { buf, count in
            fill(buf)
            count = n
        }
    }

    public var count: Int { data.count }

    /// Returns rows `range` of a tensor whose first dimension indexes samples.
    public func rows(_ range: Range<Int>) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = range.count
        return Tensor(shape: s, data: Array(data[(range.lowerBound * inner)..<(range.upperBound * inner)]))
    }
}

/// Softmax of each row of a `[N, C]` logits tensor, optionally of `logits / temperature`.
public func softmaxRows(_ logits: Tensor, temperature: Float = 1) -> Tensor {
    precondition(logits.shape.count == 2)
    let n = logits.shape[0], c = logits.shape[1]
    return Tensor(shape: logits.shape) { out in
        logits.data.withUnsafeBufferPointer { a in
            for i in 0..<n {
                var m = -Float.infinity
                for j in 0..<c { m = max(m, a[i * c + j] / temperature) }
                var s: Float = 0
                for j in 0..<c {
                    let e = _expf(a[i * c + j] / temperature - m)
                    out[i * c + j] = e
                    s += e
                }
                let inv = 1 / s
                for j in 0..<c { out[i * c + j] *= inv }
            }
        }
    }
}

/// Shannon entropy (nats) of each row of a `[N, C]` probability tensor.
public func entropyRows(_ probabilities: Tensor) -> [Float] {
    let n = probabilities.shape[0], c = probabilities.shape[1]
    var h = [Float](repeating: 0, count: n)
    for i in 0..<n {
        var s: Float = 0
        for j in 0..<c {
            let p = probabilities.data[i * c + j]
            if p > 0 { s -= p * _logf(p) }
        }
        h[i] = s
    }
    return h
}
