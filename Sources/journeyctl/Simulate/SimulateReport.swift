import Foundation
import JourneySimulation

/// The summary `journeyctl simulate` prints: what was generated and, after a send, the daemon's
/// answers, throughput and latency percentiles. A table by default, or (`--json`) one JSON object
/// with snake_case keys, every key always present (null where it does not apply).
struct SimulateReport: Encodable {
    struct Latency: Encodable {
        var unit: String
        var samples: Int
        var p50Ms: Double
        var p90Ms: Double
        var p99Ms: Double
        var p999Ms: Double
        var maxMs: Double

        enum CodingKeys: String, CodingKey {
            case unit, samples
            case p50Ms = "p50_ms", p90Ms = "p90_ms", p99Ms = "p99_ms", p999Ms = "p999_ms", maxMs = "max_ms"
        }
    }

    var customers: Int
    var uniqueEvents: Int
    var deliveries: Int
    var deliveriesBySource: [String: Int]
    var transport: String?
    var target: String?
    var connections: Int?
    var targetRate: Double?
    var sent: Int?
    var accepted: Int?
    var duplicates: Int?
    var rejected: Int?
    var failures: Int?
    var retries: Int?
    var seconds: Double?
    var eventsPerSecond: Double?
    var megabytesPerSecond: Double?
    var latency: Latency?
    var firstError: String?

    init(corpus: SimulatedCorpus, transport: String?, target: String?, connections: Int, rate: Double?, result: SendResult?) {
        customers = corpus.settings.customers
        uniqueEvents = corpus.events.count
        deliveries = corpus.deliveries.count
        deliveriesBySource = Dictionary(uniqueKeysWithValues: corpus.deliveryCounts.map { ($0.key.name, $0.value) })
        self.transport = transport
        self.target = target
        guard let result else { return }
        self.connections = connections
        targetRate = rate
        sent = result.events
        accepted = result.accepted
        duplicates = result.duplicates
        rejected = result.rejected
        failures = result.failures
        retries = result.retries
        seconds = result.seconds
        eventsPerSecond = result.seconds > 0 ? Double(result.events) / result.seconds : 0
        megabytesPerSecond = result.seconds > 0 ? Double(result.jsonBytes) / result.seconds / 1e6 : 0
        let summary = LatencySummary(result.latency)
        latency = Latency(
            unit: transport == "stream" ? "write (flush to covering ack)" : "request (send to answer)", samples: summary.samples,
            p50Ms: summary.p50, p90Ms: summary.p90, p99Ms: summary.p99, p999Ms: summary.p999, maxMs: summary.max)
        firstError = result.firstError
    }

    enum CodingKeys: String, CodingKey {
        case customers, transport, target, connections, sent, accepted, duplicates, rejected, failures, retries, seconds, latency, deliveries
        case uniqueEvents = "unique_events"
        case deliveriesBySource = "deliveries_by_source"
        case targetRate = "target_rate"
        case eventsPerSecond = "events_per_second"
        case megabytesPerSecond = "megabytes_per_second"
        case firstError = "first_error"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(customers, forKey: .customers)
        try container.encode(uniqueEvents, forKey: .uniqueEvents)
        try container.encode(deliveries, forKey: .deliveries)
        try container.encode(deliveriesBySource, forKey: .deliveriesBySource)
        try container.encode(transport, forKey: .transport)
        try container.encode(target, forKey: .target)
        try container.encode(connections, forKey: .connections)
        try container.encode(targetRate, forKey: .targetRate)
        try container.encode(sent, forKey: .sent)
        try container.encode(accepted, forKey: .accepted)
        try container.encode(duplicates, forKey: .duplicates)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(failures, forKey: .failures)
        try container.encode(retries, forKey: .retries)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(eventsPerSecond, forKey: .eventsPerSecond)
        try container.encode(megabytesPerSecond, forKey: .megabytesPerSecond)
        try container.encode(latency, forKey: .latency)
        try container.encode(firstError, forKey: .firstError)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and finite numbers always encode.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        var lines: [String] = []
        let sources = SimulatedSource.allCases.map { "\($0.name) \(TextFormat.number(deliveriesBySource[$0.name] ?? 0))" }.joined(separator: ", ")
        lines.append("journeyctl simulate: \(TextFormat.number(customers)) customers, \(TextFormat.number(uniqueEvents)) events, \(TextFormat.number(deliveries)) deliveries (\(sources))")
        guard let transport, let target, let sent, let seconds, let latency else { return lines.joined(separator: "\n") }
        let rate = targetRate.map { "target \(TextFormat.number(Int($0))) events/s" } ?? "as fast as possible"
        lines.append("  sent          \(TextFormat.number(sent)) over \(transport) to \(target), \(connections ?? 0) connections, \(rate)")
        var answers = "  answers       accepted \(TextFormat.number(accepted ?? 0))"
        if let duplicates { answers += " (duplicates \(TextFormat.number(duplicates)))" }
        answers += ", rejected \(TextFormat.number(rejected ?? 0)), failed \(TextFormat.number(failures ?? 0)), retries \(TextFormat.number(retries ?? 0))"
        lines.append(answers)
        lines.append("  time          " + String(format: "%.2f s", seconds))
        lines.append("  throughput    \(TextFormat.number(Int((eventsPerSecond ?? 0).rounded()))) events/s, " + String(format: "%.1f MB/s", megabytesPerSecond ?? 0))
        lines.append(String(
            format: "  latency       p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  (%@, %@ samples)",
            latency.p50Ms, latency.p90Ms, latency.p99Ms, latency.p999Ms, latency.maxMs, latency.unit, TextFormat.number(latency.samples)))
        if let firstError { lines.append("  first error   \(firstError)") }
        return lines.joined(separator: "\n")
    }
}
