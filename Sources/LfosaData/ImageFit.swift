/// How an image whose aspect differs from the target is made to fit it.
///
/// `centreCrop` keeps the largest centred region with the target's aspect (no padding,
/// edges lost); `letterbox` scales the whole image inside the target and pads the rest
/// with black.
public enum ImageFit: String, Sendable, Equatable, Hashable, CaseIterable {
    case centreCrop = "crop"
    case letterbox = "letterbox"
}

/// The network input size and aspect policy every folder image is brought to.
public struct ResizePolicy: Sendable, Equatable, Hashable {
    public var width: Int
    public var height: Int
    public var fit: ImageFit

    public init(width: Int = 32, height: Int = 32, fit: ImageFit = .centreCrop) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        self.fit = fit
    }
}
