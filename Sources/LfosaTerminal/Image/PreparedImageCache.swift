/// Image cells prepared ahead of time, so a keystroke shows the next image at once.
///
/// Keyed by the caller's item id; an entry is valid only for the screen context it was
/// prepared for (size, depth, dither), so after a resize or depth change `cells(for:context:)`
/// misses and the screen renders from pixels. Holds at most `capacity` entries, dropping the
/// oldest prepared first. A value type: prepare off the main loop (the cells are Sendable)
/// and `insert` the results.
public struct PreparedImageCache: Sendable {
    struct Entry: Sendable {
        var context: ScreenContext
        var cells: CellGrid
        var stamp: Int
    }

    public let capacity: Int
    private var entries: [Int: Entry] = [:]
    private var clock = 0

    public init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { entries.count }

    /// The labeling screen's cells for `image` in `context` (what `insert` stores).
    public static func prepare(_ image: PixelImage, context: ScreenContext) -> CellGrid {
        LabelingScreen.prepareImage(image, context: context)
    }

    /// Stores prepared cells for `item`.
    public mutating func insert(_ cells: CellGrid, for item: Int, context: ScreenContext) {
        clock += 1
        entries[item] = Entry(context: context, cells: cells, stamp: clock)
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.stamp < $1.value.stamp }) {
            entries[oldest.key] = nil
        }
    }

    /// Prepares and stores `image` for `item` unless a valid entry exists.
    public mutating func prefetch(_ image: PixelImage, for item: Int, context: ScreenContext) {
        guard cells(for: item, context: context) == nil else { return }
        insert(Self.prepare(image, context: context), for: item, context: context)
    }

    /// The cells for `item` if they were prepared for exactly this context.
    public func cells(for item: Int, context: ScreenContext) -> CellGrid? {
        guard let e = entries[item], e.context == context else { return nil }
        return e.cells
    }

    /// The view-model image for `item`: the pixels plus the prepared cells when valid.
    public func content(_ image: PixelImage, for item: Int, context: ScreenContext) -> ImageContent {
        ImageContent(pixels: image, prepared: cells(for: item, context: context))
    }
}
