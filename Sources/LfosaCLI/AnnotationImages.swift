import Foundation
import LfosaData
import LfosaTerminal

/// Display images of a pool for the labeling screen, decoded and prepared ahead of the keystroke.
///
/// Contract: `content(for:context:)` always returns an image (synchronously decoding when the
/// prefetch has not got there; a source file that no longer decodes falls back to the pool's
/// stored pixels, and `problem(for:)` says why). `prefetch` decodes and prepares the cells of
/// the next items on a background queue for exactly `context`; a resize makes those cells
/// stale and the screen renders from pixels until the next prefetch. Thread-safe.
final class AnnotationImages: @unchecked Sendable {
    let pool: ImagePool
    private let lock = NSLock()
    private var pixels: [Int: PixelImage] = [:]
    private var pixelOrder: [Int] = []
    private var cells = PreparedImageCache(capacity: 12)
    private var problems: [Int: String] = [:]
    private var queued = Set<Int>()
    private let queue = DispatchQueue(label: "lfosa-prefetch", qos: .userInitiated)
    private let pixelCapacity = 48

    init(pool: ImagePool) {
        self.pool = pool
    }

    /// The labeling screen's image for `item` (prepared cells when a prefetch made them).
    func content(for item: Int, context: ScreenContext) -> ImageContent {
        let image = displayPixels(item, context: context)
        lock.lock(); defer { lock.unlock() }
        return cells.content(image, for: item, context: context)
    }

    /// Why `item` is shown from the pool's stored pixels instead of its file, if it is.
    func problem(for item: Int) -> String? {
        lock.lock(); defer { lock.unlock() }
        return problems[item]
    }

    /// Decodes and prepares `items` for `context` in the background, in order.
    func prefetch(_ items: [Int], context: ScreenContext) {
        for item in items {
            lock.lock()
            let ready = cells.cells(for: item, context: context) != nil || queued.contains(item)
            if !ready { queued.insert(item) }
            lock.unlock()
            if ready { continue }
            queue.async { [self] in
                let image = displayPixels(item, context: context)
                let prepared = PreparedImageCache.prepare(image, context: context)
                lock.lock()
                cells.insert(prepared, for: item, context: context)
                queued.remove(item)
                lock.unlock()
            }
        }
    }

    /// Waits until queued prefetches are done (tests, latency measurements).
    func drain() { queue.sync {} }

    /// A small image of `item` for grid mode: the pool's stored pixels.
    func thumbnail(_ item: Int) -> PixelImage {
        Self.pixelImage(pool.raster(at: item))
    }

    private func displayPixels(_ item: Int, context: ScreenContext) -> PixelImage {
        lock.lock()
        if let hit = pixels[item] { lock.unlock(); return hit }
        lock.unlock()
        let area = LabelingScreen.layout(context.size).image
        let image: PixelImage
        var problem: String? = nil
        do {
            image = Self.pixelImage(try pool.displayImage(at: item, maxWidth: max(8, area.width), maxHeight: max(8, area.height * 2)))
        } catch {
            problem = error.description
            image = Self.pixelImage(pool.raster(at: item))
        }
        lock.lock()
        pixels[item] = image
        pixelOrder.append(item)
        if let problem { problems[item] = problem }
        while pixelOrder.count > pixelCapacity { pixels[pixelOrder.removeFirst()] = nil }
        lock.unlock()
        return image
    }

    static func pixelImage(_ raster: RasterImage) -> PixelImage {
        let r = (raster.channels == 1 || raster.channels == 3) ? raster : raster.rgb()
        return PixelImage(width: r.width, height: r.height, channels: r.channels, pixels: r.pixels)
    }
}
