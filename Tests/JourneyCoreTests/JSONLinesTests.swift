import Testing

@testable import JourneyCore

/// `JSONLines`: each line of a shared buffer stands alone — a bad line in the middle changes
/// nothing for the lines around it, and its error counts from its own start.
@Suite struct JSONLinesTests {
    @Test func eachLineIsJudgedOnItsOwn() throws {
        let text = "{\"a\":1}\n{\"b\":tru}\n\n  [1, {\"c\":\"d\"}]  "
        let bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            ranges.append(start..<index)
            start = index + 1
        }
        ranges.append(start..<bytes.count)
        let lines = JSONLines(bytes: bytes, lines: ranges)
        #expect(lines.count == 4)
        #expect(try lines[0].get()["a"]?.int64 == 1)
        #expect(throws: JSONParseError(.unexpectedByte(UInt8(ascii: "}")), at: 8)) { try lines[1].get() }
        #expect(throws: JSONParseError(.emptyInput, at: 0)) { try lines[2].get() }
        let last = try lines[3].get()
        #expect(last.elements.count == 2)
        #expect(Array(last.elements).last?["c"]?.string == "d")
        #expect(String(decoding: last.rawBytes, as: UTF8.self) == "[1, {\"c\":\"d\"}]")
    }

    @Test func anEmptyBufferHasOnlyEmptyLines() {
        let lines = JSONLines(bytes: [], lines: [0..<0, 0..<0])
        #expect(lines.count == 2)
        for index in 0..<2 {
            #expect(throws: JSONParseError(.emptyInput, at: 0)) { try lines[index].get() }
        }
        #expect(JSONLines(bytes: [], lines: []).count == 0)
    }
}
