import NIOCore

/// An NDJSON corpus held in memory for `journeyctl load`: `\n`-terminated, non-blank lines in
/// blocks of at most `StreamCorpusBuilder.blockBytes`, and the offset at which each line ends.
///
/// Blocks keep every chunk a true slice: a `ByteBuffer` slice starting past 16 MiB into its
/// storage is a copy, so one big buffer would copy every write. Immutable once built and
/// `Sendable`: every connection reads it from its own event loop, and the chunks it hands out
/// share its storage (nothing is copied per write).
struct StreamCorpus: Sendable {
    /// A run of whole lines written with one `writeAndFlush`.
    struct Chunk: Sendable {
        var bytes: ByteBuffer
        var lines: Int
    }

    /// Consecutive whole lines in one buffer.
    struct Block: Sendable {
        var bytes: ByteBuffer
        var firstLine: Int
        var lineCount: Int
        /// Offset of the block's first byte in the whole corpus.
        var startOffset: Int

        var endLine: Int { firstLine + lineCount }
    }

    let blocks: [Block]
    /// `lineEnds[i]` is the offset in the whole corpus just past line `i`'s `\n`.
    let lineEnds: [Int]

    var lineCount: Int { lineEnds.count }
    var byteCount: Int { lineEnds.last ?? 0 }

    private func start(ofLine line: Int) -> Int {
        line == 0 ? 0 : lineEnds[line - 1]
    }

    func byteCount(of lines: Range<Int>) -> Int {
        lines.isEmpty ? 0 : lineEnds[lines.upperBound - 1] - start(ofLine: lines.lowerBound)
    }

    /// The lines of `count` connections, covering the corpus once. Without `runLines`, one
    /// contiguous slice each, as equal as possible. With it, runs of `runLines` lines dealt out in
    /// turn (the first run to the first connection, the second to the second, …), so that the
    /// connections send from the same stretch of the corpus at about the same time.
    func partitions(_ count: Int, runLines: Int? = nil) -> [[Range<Int>]] {
        guard let runLines else {
            let base = lineCount / count
            let extra = lineCount % count
            var slices: [[Range<Int>]] = []
            var lower = 0
            for index in 0..<count {
                let upper = lower + base + (index < extra ? 1 : 0)
                slices.append([lower..<upper])
                lower = upper
            }
            return slices
        }
        var runs = [[Range<Int>]](repeating: [], count: count)
        for (run, lower) in stride(from: 0, to: lineCount, by: runLines).enumerated() {
            runs[run % count].append(lower..<min(lineCount, lower + runLines))
        }
        return runs
    }

    /// The index of the block holding `line`.
    private func block(holding line: Int) -> Int {
        var low = 0
        var high = blocks.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if blocks[middle].firstLine <= line { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The lines of `ranges`, in order, cut into chunks of whole lines of at most `maxBytes`
    /// (a single longer line makes a chunk of its own; no chunk crosses a block).
    func chunks(of ranges: [Range<Int>], maxBytes: Int) -> [Chunk] {
        var chunks: [Chunk] = []
        for range in ranges where !range.isEmpty {
            var blockIndex = block(holding: range.lowerBound)
            var first = range.lowerBound
            while first < range.upperBound {
                while blocks[blockIndex].endLine <= first { blockIndex += 1 }
                let block = blocks[blockIndex]
                let end = min(range.upperBound, block.endLine)
                let begin = start(ofLine: first)
                var last = first + 1
                while last < end, lineEnds[last] - begin <= maxBytes { last += 1 }
                let offset = block.bytes.readerIndex + begin - block.startOffset
                guard let slice = block.bytes.getSlice(at: offset, length: lineEnds[last - 1] - begin) else {
                    preconditionFailure("line offsets must lie inside their block")
                }
                chunks.append(Chunk(bytes: slice, lines: last - first))
                first = last
            }
        }
        return chunks
    }
}

extension Array where Element == Range<Int> {
    /// The same lines with the first `count` of them removed (the lines a server already settled).
    func droppingLines(_ count: Int) -> [Range<Int>] {
        var remaining = count
        var result: [Range<Int>] = []
        for range in self {
            if remaining >= range.count {
                remaining -= range.count
            } else {
                result.append((range.lowerBound + remaining)..<range.upperBound)
                remaining = 0
            }
        }
        return result
    }

    var lineCount: Int { reduce(0) { $0 + $1.count } }
}
