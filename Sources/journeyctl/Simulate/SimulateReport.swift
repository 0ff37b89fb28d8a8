import Foundation
import JourneySimulation

/// The summary `journeyctl simulate` prints: what was generated and, after a send, the daemon's
/// answers, throughput and latency percentiles. A table by default, or (`--json`) one JSON object
/// with snake_case keys, every key always present (null where it does not apply).
struct SimulateReport {
    struct Latency {
        var unit: String
        var samples: Int
        var p50Ms: Double
        var p90Ms: Double
        var p99Ms: Double
        var p999Ms: Double
        var maxMs: Double
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

    var json: String {
        var members: [String: Any?] = [
            "customers": customers, "unique_events": uniqueEvents, "deliveries": deliveries, "deliveries_by_source": deliveriesBySource,
            "transport": transport, "target": target, "connections": connections, "target_rate": targetRate, "sent": sent,
            "accepted": accepted, "duplicates": duplicates, "rejected": rejected, "failures": failures, "retries": retries,
            "seconds": seconds, "events_per_second": eventsPerSecond, "megabytes_per_second": megabytesPerSecond, "first_error": firstError,
        ]
        members["latency"] = latency.map { latency -> [String: Any?] in
            [
                "unit": latency.unit, "samples": latency.samples, "p50_ms": latency.p50Ms, "p90_ms": latency.p90Ms, "p99_ms": latency.p99Ms,
                "p999_ms": latency.p999Ms, "max_ms": latency.maxMs,
            ]
        }
        return JSONText.object(members)
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
