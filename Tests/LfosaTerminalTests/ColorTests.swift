import Testing
@testable import LfosaTerminal

@Test(arguments: [
    (256, false, "xterm-256color", true, ColorDepth.palette256),
    (16777216, true, "xterm-direct", true, .direct),
    (16777216, false, "xterm-direct", true, .direct),
    (256, false, "xterm-direct", true, .palette256),
    (256, true, "foot", true, .direct),
    (16, false, "rxvt", true, .ansi16),
    (8, false, "xterm", true, .ansi8),
    (-1, false, "vt100", true, .monochromeASCII),
    (256, false, "xterm-256color", false, .monochromeASCII),
])
func depthIsChosenFromTerminfoFacts(colors: Int, rgb: Bool, term: String, utf8: Bool, expected: ColorDepth) {
    let facts = ColorDepth.TerminalFacts(colors: colors, hasRGB: rgb, termName: term, utf8Locale: utf8)
    #expect(ColorDepth.choose(facts) == expected)
}

@Test func everyCubeAndGreyEntryMapsToItself() {
    for index in 16..<256 {
        let c = ColorQuantizer.paletteColor(index)
        #expect(ColorQuantizer.paletteIndex(Int(c.r), Int(c.g), Int(c.b)) == index, "index \(index) \(c)")
    }
}

@Test func paletteNearestPrefersGreyRampForGreys() {
    // 128 grey: cube has 135 (index 16+36*2+6*2+2 = 145 → 135,135,135), ramp has 128 (232+12).
    #expect(ColorQuantizer.paletteIndex(128, 128, 128) == 244)
    #expect(ColorQuantizer.paletteIndex(255, 0, 0) == 196)
    #expect(ColorQuantizer.paletteIndex(250, 10, 5) == 196)
    #expect(ColorQuantizer.paletteIndex(0, 0, 0) == 16)
}

@Test func ditheringAveragesTowardsTheTrueColour() {
    // A mid-level between cube steps 95 and 135: undithered every pixel is one level;
    // dithered over a 4×4 tile the mean comes closer to the input.
    let input = 115
    var sum = 0
    for y in 0..<4 { for x in 0..<4 {
        sum += Int(ColorQuantizer.palette[ColorQuantizer.paletteIndex(RGB(UInt8(input), 0, 0), x: x, y: y, dither: true)].r)
    } }
    let plain = Int(ColorQuantizer.palette[ColorQuantizer.paletteIndex(input, 0, 0)].r)
    #expect(abs(sum / 16 - input) < abs(plain - input))
    let offsets = (0..<16).map { ColorQuantizer.ditherOffset(x: $0 % 4, y: $0 / 4) }
    #expect(Set(offsets).count == 16)
    #expect(offsets.min()! >= -20 && offsets.max()! <= 20)
}

@Test func ansiQuantisationMapsExactColoursToThemselvesAndNearOnes() {
    for (i, c) in ColorQuantizer.ansiColors.enumerated() {
        #expect(ColorQuantizer.ansiIndex(c, colors: 16) == i)
    }
    #expect(ColorQuantizer.ansiIndex(RGB(200, 20, 20), colors: 16) == 1)
    #expect(ColorQuantizer.ansiIndex(RGB(250, 250, 250), colors: 8) == 7)
    #expect(ColorQuantizer.ansiIndex(RGB(10, 240, 10), colors: 8) == 2)
}

@Test func colorNumbersPerDepth() {
    let c = RGB(0x12, 0x34, 0x56)
    #expect(ColorQuantizer.colorNumber(c, depth: .direct) == 0x123456)
    #expect(ColorQuantizer.colorNumber(RGB(255, 0, 0), depth: .palette256) == 196)
    #expect(ColorQuantizer.colorNumber(RGB(255, 0, 0), depth: .ansi16) == 9)
    #expect(ColorQuantizer.colorNumber(RGB(255, 0, 0), depth: .ansi8) == 1)
    #expect(ColorQuantizer.colorNumber(c, depth: .monochromeASCII) == -1)
}

@Test func asciiRampCoversDarkToBright() {
    #expect(ColorQuantizer.rampCharacter(0) == " ")
    #expect(ColorQuantizer.rampCharacter(255) == "@")
    #expect(ColorQuantizer.rampCharacter(128) == "+")
    #expect(ColorQuantizer.rampCharacter(100) == "-")
}
