import Foundation
import Testing
@testable import LfosaTerminal

@Test func defaultClassKeysSkipReservedLetters() {
    let map = KeyMap.standard(classCount: 12)
    #expect(map.classKeys.map(\.name).joined() == "123456789abc")
    let all = KeyMap.defaultClassKeys.map(\.name).joined()
    for reserved in ["u", "g", "m", "q", "p"] { #expect(!all.contains(reserved)) }
    #expect(KeyMap.defaultClassKeys.count == 56)
    #expect(map.command(for: .character("b")) == .label(10))
    #expect(map.command(for: .character("u")) == .unknown)
    #expect(map.command(for: .character(" ")) == .skip)
    #expect(map.command(for: .backspace) == .undo)
    #expect(map.command(for: .character("z")) == nil)
    #expect(KeyMap.standard(classCount: 60).unboundClasses(classCount: 60) == 4)
    #expect(throws: Never.self) { try map.validate() }
}

@Test func conflictingBindingIsRejected() {
    var map = KeyMap.standard(classCount: 3)
    map.unknown = .character("2")
    #expect(throws: KeyMap.Conflict.self) { try map.validate() }
}

@Test func keyMapRoundTripsThroughJSONByKeyNames() throws {
    var map = KeyMap.standard(classCount: 2)
    map.skip = .function(5)
    let json = try JSONEncoder().encode(map)
    let text = String(decoding: json, as: UTF8.self)
    #expect(text.contains("\"f5\"") && text.contains("\"backspace\""))
    #expect(try JSONDecoder().decode(KeyMap.self, from: json) == map)
    #expect(KeyPress(name: "space") == .character(" "))
    #expect(KeyPress(name: "PageDown") == .pageDown)
    #expect(KeyPress(name: "xy") == nil)
}
