import Foundation
import JourneyCore
import JourneySimulation
import JourneyStorage

/// Writes generated events as NDJSON, one complete event per line (each with its own UUID
/// `messageId` and `type`), for `--dump-corpus` and for the stream load corpus of
/// `--write-corpus` (read by `journeyctl load --corpus`).
///
/// Every event's `sentAt` names one moment — a second after the last event was ready, in its
/// device's clock — as a bulk export or a log shipper forwarding a stretch of history sends it.
/// The daemon's clock-skew correction (`receivedAt − (sentAt − timestamp)`) then moves every event
/// by the same amount, so the generated order of time survives a replay that takes seconds: with
/// a send time per event, each event would land at its arrival moment, and each late (offline)
/// event would precede all of its customer's history instead of the hours it is late by.
/// Finding that moment generates the corpus twice.
///
/// Used from one task; the output is written in blocks of about 4 MiB, each compressed as one
/// gzip member when `gzip` is set (gzip, zcat and zlib read the members as one stream).
enum CorpusFile {
    static let blockBytes = 4 << 20

    /// With `lean`, each event as `LeanEvent` cuts it down.
    static func write(events count: Int, seed: UInt64, lean: Bool, to output: FileHandle, gzip: Bool) throws {
        let sentAt = exportMoment(events: count, seed: seed)
        var generator = generator(events: count, seed: seed)
        var writer = ByteJSON(capacity: 64 * 1024)
        var block: [UInt8] = []
        block.reserveCapacity(blockBytes + 64 * 1024)
        for index in 0..<max(count, 0) {
            writer.bytes.removeAll(keepingCapacity: true)
            let info = generator.writeEvent(into: &writer)
            let text = Timestamp(millisecondsSinceEpoch: sentAt + info.skew).rfc3339Bytes
            precondition(text.count == 24, "sentAt must keep its width")
            writer.bytes.replaceSubrange(info.sentAtOffset..<info.sentAtOffset + 24, with: text)
            if lean { try LeanEvent.append(writer.bytes, to: &block) } else { block += writer.bytes }
            block.append(UInt8(ascii: "\n"))
            if block.count >= blockBytes || index == count - 1 {
                try output.write(contentsOf: gzip ? Gzip.compress(block, level: 1) : block)
                block.removeAll(keepingCapacity: true)
            }
        }
    }

    private static func generator(events count: Int, seed: UInt64) -> CorpusGenerator {
        CorpusGenerator(seed: seed, population: Population(seed: seed, count: max(1_000, count / 10)))
    }

    /// One second after the last of the first `count` events was ready (true time, ms).
    private static func exportMoment(events count: Int, seed: UInt64) -> Int64 {
        var generator = generator(events: count, seed: seed)
        var scratch = ByteJSON(capacity: 64 * 1024)
        var latest: Int64 = 0
        for _ in 0..<max(count, 0) {
            scratch.bytes.removeAll(keepingCapacity: true)
            latest = max(latest, generator.writeEvent(into: &scratch).readyAt)
        }
        return latest + 1_000
    }

    /// Writes `count` events to `path`, gzip-compressed when the name ends in `.gz`.
    static func write(events count: Int, seed: UInt64, lean: Bool, toPath path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw BenchError("cannot create \(path)")
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? output.close() }
        try write(events: count, seed: seed, lean: lean, to: output, gzip: path.hasSuffix(".gz"))
    }
}
