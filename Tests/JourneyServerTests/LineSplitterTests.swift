import Testing

@testable import JourneyServer

/// The stream's line framing: any cut of the bytes gives the same lines; over-long lines are
/// reported and skipped without being held; an unterminated tail is pending, not a line.
@Suite struct LineSplitterTests {
    private func split(_ pieces: [String], max: Int = 16) -> (lines: [LineSplitter.Line], pending: Int) {
        var splitter = LineSplitter(maxLineBytes: max)
        var lines: [LineSplitter.Line] = []
        for piece in pieces {
            Array(piece.utf8).withUnsafeBytes { bytes in splitter.split(bytes) { lines.append($0) } }
        }
        return (lines, splitter.pendingBytes)
    }

    @Test func everyCutOfTheStreamGivesTheSameLines() {
        let text = "{\"a\":1}\n\r\n{\"b\":22}\r\nxyz\n" + String(repeating: "L", count: 40) + "\nlast\ntail"
        let whole = split([text])
        #expect(whole.lines == [
            .complete(Array("{\"a\":1}".utf8)), .complete([]), .complete(Array("{\"b\":22}".utf8)), .complete(Array("xyz".utf8)),
            .tooLong(bytes: 40), .complete(Array("last".utf8)),
        ])
        #expect(whole.pending == 4)
        let bytes = Array(text)
        for cut in 1..<bytes.count {
            let pieces = [String(bytes[..<cut]), String(bytes[cut...])]
            let result = split(pieces)
            #expect(result.lines == whole.lines, "cut at \(cut)")
            #expect(result.pending == whole.pending, "cut at \(cut)")
        }
        let byteByByte = split(bytes.map { String($0) })
        #expect(byteByByte.lines == whole.lines)
    }

    @Test func theLimitCountsTheLineWithoutItsEnding() {
        let exact = String(repeating: "x", count: 16)
        #expect(split([exact + "\r\n", exact + "\n"]).lines == [.complete(Array(exact.utf8)), .complete(Array(exact.utf8))])
        #expect(split([exact + "y\n"]).lines == [.tooLong(bytes: 17)])
        #expect(split([exact + "yy\r\n"]).lines == [.tooLong(bytes: 18)])
    }

    @Test func anOverLongLineIsCountedNotHeld() {
        let huge = String(repeating: "z", count: 10_000)
        let result = split([huge, huge, "\nok\n"])
        #expect(result.lines == [.tooLong(bytes: 20_000), .complete(Array("ok".utf8))])
        #expect(result.pending == 0)
    }
}
