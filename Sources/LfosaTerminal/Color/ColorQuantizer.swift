/// Maps 24-bit colours to the colours a terminal of a given depth can show.
///
/// Nearest colours use the "redmean" weighted distance (a cheap perceptual approximation).
/// For the 256-colour palette only the 6×6×6 cube (16…231) and the 24-step grey ramp
/// (232…255) are candidates: the 16 system colours are user-configurable, so their RGB is
/// unknown. Tables are precomputed once; every function is pure and thread-safe.
public enum ColorQuantizer {
    /// The six levels of each channel in the xterm 6×6×6 cube.
    public static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]

    /// xterm's default RGB for the 16 system colours (used for `.ansi16`/`.ansi8`).
    public static let ansiColors: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
        RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
        RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0),
        RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    /// The RGB of xterm palette entry `index` (0…255).
    public static func paletteColor(_ index: Int) -> RGB {
        switch index {
        case 0..<16: return ansiColors[index]
        case 16..<232:
            let i = index - 16
            return RGB(cubeLevels[i / 36], cubeLevels[(i / 6) % 6], cubeLevels[i % 6])
        default:
            let v = UInt8(8 + 10 * (index - 232))
            return RGB(v, v, v)
        }
    }

    /// The full 256-entry palette as RGB.
    public static let palette: [RGB] = (0..<256).map(paletteColor)

    /// Weighted "redmean" squared distance between two colours.
    @inline(__always)
    public static func distance(_ r1: Int, _ g1: Int, _ b1: Int, _ r2: Int, _ g2: Int, _ b2: Int) -> Int {
        let rmean = (r1 + r2) >> 1
        let dr = r1 - r2, dg = g1 - g2, db = b1 - b2
        return (((512 + rmean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rmean) * db * db) >> 8)
    }

    /// For each channel value, the index (0…5) of the nearest cube level.
    static let cubeIndexOfChannel: [UInt8] = (0..<256).map { v in
        var best = 0
        for i in 1..<6 where abs(Int(cubeLevels[i]) - v) < abs(Int(cubeLevels[best]) - v) { best = i }
        return UInt8(best)
    }

    /// For each grey value, the index (0…23) of the nearest grey-ramp step.
    static let greyIndexOfValue: [UInt8] = (0..<256).map { v in
        UInt8(min(23, max(0, (v - 3) / 10)))
    }

    /// The xterm-256 index nearest to (r, g, b): the nearest cube colour or grey step.
    @inline(__always)
    public static func paletteIndex(_ r: Int, _ g: Int, _ b: Int) -> Int {
        let ir = Int(cubeIndexOfChannel[r]), ig = Int(cubeIndexOfChannel[g]), ib = Int(cubeIndexOfChannel[b])
        let cr = Int(cubeLevels[ir]), cg = Int(cubeLevels[ig]), cb = Int(cubeLevels[ib])
        let cubeDistance = distance(r, g, b, cr, cg, cb)
        let gi = Int(greyIndexOfValue[(r * 77 + g * 150 + b * 29) >> 8])
        let gv = 8 + 10 * gi
        let greyDistance = distance(r, g, b, gv, gv, gv)
        return greyDistance < cubeDistance ? 232 + gi : 16 + 36 * ir + 6 * ig + ib
    }

    /// 4×4 Bayer matrix, values 0…15.
    static let bayer4: [Int] = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5]

    /// The ordered-dither offset for pixel (x, y), in −19…19 (about half a cube step).
    @inline(__always)
    public static func ditherOffset(x: Int, y: Int) -> Int {
        (2 * bayer4[(y & 3) << 2 | (x & 3)] + 1) * 40 / 32 - 20
    }

    /// The xterm-256 index for a pixel, with optional 4×4 ordered dithering at (x, y).
    @inline(__always)
    public static func paletteIndex(_ c: RGB, x: Int, y: Int, dither: Bool) -> Int {
        guard dither else { return paletteIndex(Int(c.r), Int(c.g), Int(c.b)) }
        let o = ditherOffset(x: x, y: y)
        return paletteIndex(clamp(Int(c.r) + o), clamp(Int(c.g) + o), clamp(Int(c.b) + o))
    }

    @inline(__always) static func clamp(_ v: Int) -> Int { v < 0 ? 0 : (v > 255 ? 255 : v) }

    /// Nearest of the first `count` system colours (16 or 8), via a 32×32×32 table.
    static func buildAnsiTable(count: Int) -> [UInt8] {
        var table = [UInt8](repeating: 0, count: 32 * 32 * 32)
        for r in 0..<32 { for g in 0..<32 { for b in 0..<32 {
            let rr = r << 3 | 4, gg = g << 3 | 4, bb = b << 3 | 4
            var best = 0, bestD = Int.max
            for i in 0..<count {
                let c = ansiColors[i]
                let d = distance(rr, gg, bb, Int(c.r), Int(c.g), Int(c.b))
                if d < bestD { bestD = d; best = i }
            }
            table[r << 10 | g << 5 | b] = UInt8(best)
        } } }
        return table
    }

    static let ansi16Table = buildAnsiTable(count: 16)
    static let ansi8Table = buildAnsiTable(count: 8)

    /// The nearest system colour index: 0…15 for `.ansi16`, 0…7 for `.ansi8`.
    ///
    /// An exact system colour always maps to itself.
    public static func ansiIndex(_ c: RGB, colors: Int) -> Int {
        let count = colors >= 16 ? 16 : 8
        if let exact = ansiColors.prefix(count).firstIndex(of: c) { return exact }
        let key = Int(c.r >> 3) << 10 | Int(c.g >> 3) << 5 | Int(c.b >> 3)
        return Int(count == 16 ? ansi16Table[key] : ansi8Table[key])
    }

    /// The colour as it will appear at `depth`: the palette entry's RGB (or the colour itself
    /// for `.direct`; grey for `.monochromeASCII`).
    public static func displayed(_ c: RGB, depth: ColorDepth, x: Int = 0, y: Int = 0, dither: Bool = false) -> RGB {
        switch depth {
        case .direct: return c
        case .palette256: return palette[paletteIndex(c, x: x, y: y, dither: dither)]
        case .ansi16: return ansiColors[ansiIndex(c, colors: 16)]
        case .ansi8: return ansiColors[ansiIndex(c, colors: 8)]
        case .monochromeASCII: let l = c.luma; return RGB(l, l, l)
        }
    }

    /// The terminal colour number for `c` at `depth`: 0xRRGGBB for `.direct`, a palette
    /// index otherwise, −1 (terminal default) for `.monochromeASCII`.
    public static func colorNumber(_ c: RGB, depth: ColorDepth) -> Int32 {
        switch depth {
        case .direct: return c.packed
        case .palette256: return Int32(paletteIndex(Int(c.r), Int(c.g), Int(c.b)))
        case .ansi16: return Int32(ansiIndex(c, colors: 16))
        case .ansi8: return Int32(ansiIndex(c, colors: 8))
        case .monochromeASCII: return -1
        }
    }

    /// The ASCII grey ramp, darkest first (for light-on-dark terminals).
    public static let asciiRamp: [Unicode.Scalar] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// The ramp character for a grey level 0…255.
    @inline(__always)
    public static func rampCharacter(_ grey: Int) -> Unicode.Scalar {
        asciiRamp[min(asciiRamp.count - 1, grey * asciiRamp.count / 256)]
    }
}
