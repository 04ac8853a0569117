import Testing
@testable import LfosaTerminal

let plain = CellStyle(foreground: .white, background: .black)

@Test func textClipsAtGridEdgesAndClipRect() {
    var grid = CellGrid(width: 6, height: 2)
    grid.text("hello world", x: 2, y: 0, style: plain)
    grid.text("abc", x: -1, y: 1, style: plain)
    grid.text("zzz", x: 0, y: 5, style: plain)
    #expect(grid.text() == "  hell\nbc    ")
    var clipped = CellGrid(width: 6, height: 1)
    clipped.text("abcdef", x: 0, y: 0, style: plain, clip: Rect(x: 1, y: 0, width: 3, height: 1))
    #expect(clipped.text() == " bcd  ")
}

@Test func truncatedTextEndsWithEllipsis() {
    var grid = CellGrid(width: 8, height: 2)
    grid.text("abcdefghij", x: 0, y: 0, width: 5, style: plain)
    grid.text("abcdefghij", x: 0, y: 1, width: 5, style: plain, ascii: true)
    #expect(grid.line(0) == "abcd…")
    #expect(grid.line(1) == "abcd~")
}

@Test func wideAndControlCharactersBecomeQuestionMarks() {
    var grid = CellGrid(width: 4, height: 1)
    grid.text("a猫\tb", x: 0, y: 0, style: plain)
    #expect(grid.text() == "a??b")
}

@Test func boxDrawsFrameAndTitle() {
    var grid = CellGrid(width: 10, height: 3)
    grid.box(grid.bounds, glyphs: .unicode, style: plain, title: "ab")
    #expect(grid.text() == "┌ ab ────┐\n│        │\n└────────┘")
    var ascii = CellGrid(width: 4, height: 3)
    ascii.box(ascii.bounds, glyphs: .ascii, style: plain)
    #expect(ascii.text() == "+--+\n|  |\n+--+")
}

@Test func barFillsProportionally() {
    var grid = CellGrid(width: 10, height: 1)
    grid.bar(x: 0, y: 0, width: 10, fraction: 0.34, glyphs: .ascii, filled: plain, empty: plain)
    #expect(grid.text() == "###.......")
    grid.bar(x: 0, y: 0, width: 10, fraction: .nan, glyphs: .ascii, filled: plain, empty: plain)
    #expect(grid.text() == "..........")
}

@Test func blitCopiesClipped() {
    var small = CellGrid(width: 3, height: 2)
    small.text("abc", x: 0, y: 0, style: plain)
    small.text("def", x: 0, y: 1, style: plain)
    var grid = CellGrid(width: 4, height: 3)
    grid.blit(small, x: 2, y: 2)
    #expect(grid.text() == "    \n    \n  ab")
}

@Test func styleDumpCodesDistinctStyles() {
    var grid = CellGrid(width: 3, height: 1)
    grid.text("x", x: 1, y: 0, style: CellStyle(foreground: RGB(255, 0, 0), background: .black, attributes: [.bold]))
    #expect(grid.styleDump() == " x \n--\naba\n--\na #ffffff/#000000\nb #ff0000/#000000 bold\n")
}
