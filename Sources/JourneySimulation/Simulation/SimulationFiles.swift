import Foundation
import JourneyCore
import JourneyStorage

/// The files `journeyctl simulate --out DIR` writes (docs/SIMULATE.md):
///
/// - `truth.jsonl.gz` — the ground truth, one line per unique event (`GroundTruthRecord`);
/// - `simulation.json` — the settings and counts;
/// - `journeyd-sources.yaml` — the config fragment that makes a daemon accept the corpus;
/// - `events/<source>.jsonl.gz` — with `--write-corpus`: each source's deliveries in arrival
///   order, one event per line, ready for `journeyctl load --write-key`.
///
/// gzip files are series of members of at most 4 MiB each (level 1). Used from one task.
public enum SimulationFiles {
    public static let truthFile = "truth.jsonl.gz"
    public static let manifestFile = "simulation.json"
    public static let configFile = "journeyd-sources.yaml"
    public static let eventsDirectory = "events"
    static let blockBytes = 4 << 20

    public static func eventsFile(_ source: SimulatedSource) -> String {
        eventsDirectory + "/" + source.name + ".jsonl.gz"
    }

    public static func write(_ corpus: SimulatedCorpus, to directory: String, keyPrefix: String, includeEvents: Bool) throws(SimulationError) {
        try createDirectory(directory)
        try writeGzipLines(to: directory + "/" + truthFile, count: corpus.events.count) { index, out in
            GroundTruthRecord(corpus.events[index]).appendJSON(to: &out)
        }
        try writeText(manifest(corpus), to: directory + "/" + manifestFile)
        try writeText(DaemonConfigFragment.yaml(keyPrefix: keyPrefix), to: directory + "/" + configFile)
        guard includeEvents else { return }
        try createDirectory(directory + "/" + eventsDirectory)
        for source in SimulatedSource.allCases {
            let deliveries = corpus.deliveries(of: source)
            try writeGzipLines(to: directory + "/" + eventsFile(source), count: deliveries.count) { index, out in
                out.append(contentsOf: corpus.events[deliveries[index]].json)
            }
        }
    }

    /// `simulation.json`: the settings and what was generated.
    static func manifest(_ corpus: SimulatedCorpus) -> String {
        let settings = corpus.settings
        var json = ByteJSON(capacity: 1_024)
        json.beginObject()
        json.string("format", "journeyctl-simulation/1")
        json.key("seed")
        json.bytes.append(contentsOf: String(settings.seed).utf8)
        json.int("customers", settings.customers)
        json.int("days", settings.days)
        json.timestamp("start", settings.start)
        json.timestamp("end", settings.end)
        json.beginObject("rates")
        for (name, value) in settings.rates.named {
            json.dynamicKey(name.dropFirst(2).replacingOccurrences(of: "-rate", with: "").replacingOccurrences(of: "-", with: "_"))
            json.bytes.append(contentsOf: String(value).utf8)
        }
        json.endObject()
        json.int("events", corpus.events.count)
        json.int("deliveries", corpus.deliveries.count)
        json.beginObject("deliveries_by_source")
        let counts = corpus.deliveryCounts
        for source in SimulatedSource.allCases {
            json.dynamicKey(source.name)
            json.decimal(counts[source] ?? 0)
        }
        json.endObject()
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self) + "\n"
    }

    private static func createDirectory(_ path: String) throws(SimulationError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    private static func writeText(_ text: String, to path: String) throws(SimulationError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw .cannotWrite(path: path, reason: "cannot create the file")
        }
    }

    /// Writes `count` lines, each appended by `line`, as gzip members of at most `blockBytes`
    /// uncompressed (the most journeyd's gzip reader takes per member).
    private static func writeGzipLines(to path: String, count: Int, _ line: (Int, inout [UInt8]) -> Void) throws(SimulationError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .cannotWrite(path: path, reason: "cannot create the file")
        }
        defer { try? handle.close() }
        var block: [UInt8] = []
        block.reserveCapacity(blockBytes)
        var text: [UInt8] = []
        do {
            for index in 0..<count {
                text.removeAll(keepingCapacity: true)
                line(index, &text)
                text.append(UInt8(ascii: "\n"))
                if block.count + text.count > blockBytes {
                    try handle.write(contentsOf: Gzip.compress(block, level: 1))
                    block.removeAll(keepingCapacity: true)
                }
                block.append(contentsOf: text)
            }
            try handle.write(contentsOf: Gzip.compress(block, level: 1))
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
