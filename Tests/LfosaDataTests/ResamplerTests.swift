import Testing
@testable import LfosaData

@Suite("Resizing")
struct ResamplerTests {
    @Test func areaAveragingShrinks() {
        let img = RasterImage(width: 2, height: 2, channels: 1, pixels: [0, 100, 200, 100])
        let r = Resampler.resize(img, to: ResizePolicy(width: 1, height: 1))
        #expect(r.pixels == [100])
        let strip = RasterImage(width: 4, height: 1, channels: 1, pixels: [0, 10, 20, 30])
        #expect(Resampler.resize(strip, to: ResizePolicy(width: 2, height: 1, fit: .letterbox)).pixels == [5, 25])
    }

    @Test func constantImagesStayConstant() {
        let img = RasterImage(width: 7, height: 5, channels: 3, pixels: [UInt8](repeating: 77, count: 105))
        for (w, h) in [(3, 3), (32, 32), (10, 2), (2, 10)] {
            for fit in ImageFit.allCases where fit == .centreCrop {
                #expect(Resampler.resize(img, to: ResizePolicy(width: w, height: h, fit: fit)).pixels.allSatisfy { $0 == 77 })
            }
        }
    }

    @Test func bilinearEnlarges() {
        let img = RasterImage(width: 2, height: 1, channels: 1, pixels: [0, 200])
        let r = Resampler.resize(img, to: ResizePolicy(width: 4, height: 2, fit: .letterbox))
        #expect(r.pixels == [0, 50, 150, 200, 0, 50, 150, 200])
    }

    @Test func centreCropKeepsTheMiddle() {
        let img = RasterImage(width: 4, height: 2, channels: 1, pixels: [1, 2, 3, 4, 1, 2, 3, 4])
        let r = Resampler.resize(img, to: ResizePolicy(width: 2, height: 2, fit: .centreCrop))
        #expect(r.pixels == [2, 3, 2, 3])
    }

    @Test func letterboxPadsWithBlack() {
        let img = RasterImage(width: 4, height: 2, channels: 1, pixels: [9, 9, 9, 9, 9, 9, 9, 9])
        let r = Resampler.resize(img, to: ResizePolicy(width: 4, height: 4, fit: .letterbox))
        #expect(r.pixels == [0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0])
    }

    @Test func fitKeepsAspect() {
        let r = Resampler.fit(smoothImage(width: 100, height: 50), maxWidth: 40, maxHeight: 40)
        #expect(r.width == 40 && r.height == 20)
        let small = Resampler.fit(smoothImage(width: 10, height: 5), maxWidth: 40, maxHeight: 40, enlarge: false)
        #expect(small.width == 10 && small.height == 5)
    }
}
