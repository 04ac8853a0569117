/// How a forward pass behaves.
public enum ForwardMode: Sendable {
    /// Batch statistics in batch norm, dropout active, inputs kept for `backward`.
    case training
    /// Running statistics, dropout off.
    case inference
    /// Running statistics, dropout on (Monte-Carlo dropout, as BALD needs).
    case inferenceWithDropout
}

/// One differentiable step of a network.
///
/// `backward` takes the gradient of the loss with respect to the last `forward`'s output,
/// accumulates parameter gradients, and returns the gradient with respect to that input
/// (an empty tensor when `computesInputGradient` is false). `backward` is only valid after a
/// `.training` forward.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }
    /// False for a network's first layer: its input gradient is never needed.
    var computesInputGradient: Bool { get set }
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }
}

/// Kaiming-normal initial values (fan-in, ReLU gain).
func kaimingNormal(count: Int, fanIn: Int, rng: inout SplitMix64) -> [Float] {
    let std = (2 / Float(max(1, fanIn))).squareRoot()
    return (0..<count).map { _ in rng.nextNormal() * std }
}

/// Uniform initial values in ±bound.
func uniform(count: Int, bound: Float, rng: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * bound }
}
