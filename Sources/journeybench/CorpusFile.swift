import Foundation
import JourneySimulation
import JourneyStorage

/// Writes generated events as NDJSON, one complete event per line (each with its own UUID
/// `messageId`, `type` and `sentAt`, as an SDK sending it alone would), for `--dump-corpus` and
/// for the stream load corpus of `--write-corpus` (read by `journeyctl load --corpus`).
///
/// Used from one task; the output is written in blocks of about 4 MiB, each compressed as one
/// gzip member when `gzip` is set (gzip, zcat and zlib read the members as one stream).
enum CorpusFile {
    static let blockBytes = 4 << 20

    static func write(events count: Int, seed: UInt64, to output: FileHandle, gzip: Bool) throws {
        var generator = CorpusGenerator(seed: seed, population: Population(seed: seed, count: max(1_000, count / 10)))
        var writer = ByteJSON(capacity: blockBytes + 64 * 1024)
        for index in 0..<max(count, 0) {
            _ = generator.writeEvent(into: &writer)
            writer.bytes.append(UInt8(ascii: "\n"))
            if writer.count >= blockBytes || index == count - 1 {
                let block = gzip ? Gzip.compress(writer.bytes, level: 1) : writer.bytes
                try output.write(contentsOf: block)
                writer.bytes.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Writes `count` events to `path`, gzip-compressed when the name ends in `.gz`.
    static func write(events count: Int, seed: UInt64, toPath path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw BenchError("cannot create \(path)")
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? output.close() }
        try write(events: count, seed: seed, to: output, gzip: path.hasSuffix(".gz"))
    }
}
