import Testing

@testable import JourneyServer

/// The stream's line framing: any cut of the bytes gives the same lines; over-long lines are
/// reported and skipped without being held; an unterminated tail is pending, not a line.
@Suite struct LineSplitterTests {
    /// A line as split, with a complete line's bytes read from its call's buffer.
    private enum Line: Equatable {
        case complete(String)
        case tooLong(bytes: Int)
    }

    private func split(_ pieces: [String], max: Int = 16) -> (lines: [Line], pending: Int) {
        var splitter = LineSplitter(maxLineBytes: max)
        var lines: [Line] = []
        for piece in pieces {
            var lineBytes: [UInt8] = []
            var split: [LineSplitter.Line] = []
            Array(piece.utf8).withUnsafeBytes { bytes in splitter.split(bytes, into: &lineBytes) { split.append($0) } }
            for line in split {
                switch line {
                case .complete(let range): lines.append(.complete(String(decoding: lineBytes[range], as: UTF8.self)))
                case .tooLong(let bytes): lines.append(.tooLong(bytes: bytes))
                }
            }
            // The buffer holds the complete lines back to back and nothing else.
            let ranges = split.compactMap { line in if case .complete(let range) = line { range } else { nil } }
            #expect(ranges.map(\.lowerBound) == [0] + ranges.dropLast().map(\.upperBound) || ranges.isEmpty)
            #expect((ranges.last?.upperBound ?? 0) == lineBytes.count)
        }
        return (lines, splitter.pendingBytes)
    }

    @Test func everyCutOfTheStreamGivesTheSameLines() {
        let text = "{\"a\":1}\n\r\n{\"b\":22}\r\nxyz\n" + String(repeating: "L", count: 40) + "\nlast\ntail"
        let whole = split([text])
        #expect(whole.lines == [
            .complete("{\"a\":1}"), .complete(""), .complete("{\"b\":22}"), .complete("xyz"), .tooLong(bytes: 40), .complete("last"),
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
        #expect(split([exact + "\r\n", exact + "\n"]).lines == [.complete(exact), .complete(exact)])
        #expect(split([exact + "y\n"]).lines == [.tooLong(bytes: 17)])
        #expect(split([exact + "yy\r\n"]).lines == [.tooLong(bytes: 18)])
    }

    @Test func anOverLongLineIsCountedNotHeld() {
        let huge = String(repeating: "z", count: 10_000)
        let result = split([huge, huge, "\nok\n"])
        #expect(result.lines == [.tooLong(bytes: 20_000), .complete("ok")])
        #expect(result.pending == 0)
        // Inside the over-long line, what is skipped is counted, and nothing of it is held (a
        // reader sizes its next buffer by what is held).
        var splitter = LineSplitter(maxLineBytes: 16)
        var lineBytes: [UInt8] = []
        Array((huge + huge).utf8).withUnsafeBytes { bytes in splitter.split(bytes, into: &lineBytes) { _ in } }
        #expect(splitter.pendingBytes == 20_000)
        #expect(splitter.heldBytes == 0)
        #expect(lineBytes.isEmpty)
    }
}
