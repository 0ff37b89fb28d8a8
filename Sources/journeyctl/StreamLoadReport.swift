import Foundation

/// The numbers of one `journeyctl load` run, printed as a short table or (`--json`) as one JSON
/// object with snake_case keys; the ack latency keys are null in `--no-acks` mode. MB = 10^6 bytes.
struct StreamLoadReport: Encodable, Sendable {
    var mode: String
    var target: String
    var connections: Int
    var events: Int
    var bytes: Int
    var seconds: Double
    var eventsPerSecond: Double
    var megabytesPerSecond: Double
    var settledEvents: Int
    var errorLines: Int
    var firstError: String?
    var reconnects: Int
    var windowBytes: Int?
    var writeBytes: Int
    var ackSamples: Int
    var ackP50Ms: Double?
    var ackP90Ms: Double?
    var ackP99Ms: Double?
    var ackMaxMs: Double?

    init(_ run: StreamLoadRunner.Result, target: StreamTarget, settings: StreamLoadSettings) {
        let results = run.connections
        mode = settings.waitsForAcks ? "acks" : "no-acks"
        self.target = target.description
        connections = results.count
        events = results.reduce(0) { $0 + $1.lines }
        bytes = results.reduce(0) { $0 + $1.bytes }
        seconds = run.seconds
        eventsPerSecond = seconds > 0 ? Double(events) / seconds : 0
        megabytesPerSecond = seconds > 0 ? Double(bytes) / seconds / 1e6 : 0
        settledEvents = results.reduce(0) { $0 + $1.settled }
        errorLines = results.reduce(0) { $0 + $1.rejectedLines }
        firstError = results.lazy.compactMap(\.firstRejection).first
        reconnects = results.reduce(0) { $0 + $1.reconnects }
        windowBytes = settings.waitsForAcks ? settings.windowBytes : nil
        writeBytes = settings.chunkBytes
        let latencies = results.flatMap(\.ackLatencies).sorted()
        ackSamples = latencies.count
        ackP50Ms = Self.percentile(0.50, of: latencies)
        ackP90Ms = Self.percentile(0.90, of: latencies)
        ackP99Ms = Self.percentile(0.99, of: latencies)
        ackMaxMs = latencies.last.map { Double($0) / 1e6 }
    }

    /// Nearest-rank percentile of sorted nanoseconds, in milliseconds.
    static func percentile(_ fraction: Double, of sorted: [UInt64]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(sorted.count, max(rank, 1)) - 1]) / 1e6
    }

    private enum CodingKeys: String, CodingKey {
        case mode, target, connections, events, bytes, seconds
        case eventsPerSecond = "events_per_second"
        case megabytesPerSecond = "megabytes_per_second"
        case settledEvents = "settled_events"
        case errorLines = "error_lines"
        case firstError = "first_error"
        case reconnects
        case windowBytes = "window_bytes"
        case writeBytes = "write_bytes"
        case ackSamples = "ack_samples"
        case ackP50Ms = "ack_p50_ms"
        case ackP90Ms = "ack_p90_ms"
        case ackP99Ms = "ack_p99_ms"
        case ackMaxMs = "ack_max_ms"
    }

    /// Every key is written, absent values as null, so scripts can rely on the set of keys.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mode, forKey: .mode)
        try container.encode(target, forKey: .target)
        try container.encode(connections, forKey: .connections)
        try container.encode(events, forKey: .events)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(eventsPerSecond, forKey: .eventsPerSecond)
        try container.encode(megabytesPerSecond, forKey: .megabytesPerSecond)
        try container.encode(settledEvents, forKey: .settledEvents)
        try container.encode(errorLines, forKey: .errorLines)
        try container.encode(firstError, forKey: .firstError)
        try container.encode(reconnects, forKey: .reconnects)
        try container.encode(windowBytes, forKey: .windowBytes)
        try container.encode(writeBytes, forKey: .writeBytes)
        try container.encode(ackSamples, forKey: .ackSamples)
        try container.encode(ackP50Ms, forKey: .ackP50Ms)
        try container.encode(ackP90Ms, forKey: .ackP90Ms)
        try container.encode(ackP99Ms, forKey: .ackP99Ms)
        try container.encode(ackMaxMs, forKey: .ackMaxMs)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and finite numbers cannot fail.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        func milliseconds(_ value: Double?) -> String { value.map { String(format: "%.1f ms", $0) } ?? "-" }
        var lines: [String] = []
        let window = windowBytes.map { ", window \(TextFormat.bytes($0))" } ?? ""
        lines.append("journeyctl load: \(connections) connections to \(target), \(mode)\(window), writes of \(TextFormat.bytes(writeBytes))")
        lines.append("  events        \(TextFormat.number(events)) (settled \(TextFormat.number(settledEvents)), error lines \(TextFormat.number(errorLines)))")
        lines.append("  bytes         " + String(format: "%.1f MB", Double(bytes) / 1e6))
        lines.append("  time          " + String(format: "%.2f s", seconds))
        lines.append("  throughput    \(TextFormat.number(Int(eventsPerSecond.rounded()))) events/s, " + String(format: "%.1f MB/s", megabytesPerSecond))
        if ackSamples > 0 {
            lines.append(
                "  ack latency   p50 \(milliseconds(ackP50Ms))  p90 \(milliseconds(ackP90Ms))  p99 \(milliseconds(ackP99Ms))  max \(milliseconds(ackMaxMs))  (\(TextFormat.number(ackSamples)) writes)")
        }
        lines.append("  reconnects    \(reconnects)")
        if let firstError { lines.append("  first error   \(firstError)") }
        return lines.joined(separator: "\n")
    }
}
