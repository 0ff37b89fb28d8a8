import Foundation
import NIOCore

/// Builds a `StreamCorpus` from NDJSON text fed in pieces of any size (a line may span pieces).
/// Blank lines are left out, a `\r` before a `\n` is dropped and a last line without `\n` gets
/// one, so every line kept is one event line as the server counts them.
///
/// A value owned by the code loading the corpus, on one thread.
struct StreamCorpusBuilder {
    /// Block size: well below the 16 MiB past which a `ByteBuffer` slice is a copy.
    static let blockBytes = 8 << 20

    private var blocks: [StreamCorpus.Block] = []
    private var lineEnds: [Int] = []
    private var current = ByteBufferAllocator().buffer(capacity: blockBytes)
    private var currentFirstLine = 0
    private var currentStart = 0
    private var totalBytes = 0
    /// The start of a line whose `\n` is in a later piece.
    private var partial: [UInt8] = []

    mutating func append(_ text: UnsafeRawBufferPointer) {
        guard let base = text.baseAddress else { return }
        var start = 0
        while start < text.count {
            guard let found = memchr(base + start, Int32(UInt8(ascii: "\n")), text.count - start) else {
                partial.append(contentsOf: text[start...])
                return
            }
            let end = UnsafeRawPointer(found) - base
            if partial.isEmpty {
                addLine(UnsafeRawBufferPointer(rebasing: text[start..<end]))
            } else {
                partial.append(contentsOf: text[start..<end])
                partial.withUnsafeBytes { addLine($0) }
                partial.removeAll(keepingCapacity: true)
            }
            start = end + 1
        }
    }

    mutating func finish() -> StreamCorpus {
        if !partial.isEmpty {
            partial.withUnsafeBytes { addLine($0) }
            partial = []
        }
        closeBlock()
        return StreamCorpus(blocks: blocks, lineEnds: lineEnds)
    }

    private mutating func addLine(_ raw: UnsafeRawBufferPointer) {
        var line = raw
        if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return }
        if current.readableBytes > 0, current.readableBytes + line.count + 1 > Self.blockBytes { closeBlock() }
        current.writeBytes(line)
        current.writeInteger(UInt8(ascii: "\n"))
        totalBytes += line.count + 1
        lineEnds.append(totalBytes)
    }

    private mutating func closeBlock() {
        guard current.readableBytes > 0 else { return }
        blocks.append(StreamCorpus.Block(
            bytes: current, firstLine: currentFirstLine, lineCount: lineEnds.count - currentFirstLine, startOffset: currentStart))
        currentFirstLine = lineEnds.count
        currentStart = totalBytes
        current = ByteBufferAllocator().buffer(capacity: Self.blockBytes)
    }
}
