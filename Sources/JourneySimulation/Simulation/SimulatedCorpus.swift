import Foundation
import JourneyCore
import Synchronization

/// A whole simulation: every customer's events (each message id once) and the order in which
/// they are delivered, duplicates included. Generated from `SimulationSettings` alone — customers
/// in parallel, each from its own random stream — so the same settings give the same corpus on
/// any machine. Immutable once generated and `Sendable`: senders read it from several tasks.
public struct SimulatedCorpus: Sendable {
    public let settings: SimulationSettings
    /// The unique events, by customer, each in the order it happened.
    public let events: [SimulatedEvent]
    /// Indexes into `events` in arrival order; a duplicated event appears twice.
    public let deliveries: [Int]

    init(settings: SimulationSettings, events: [SimulatedEvent], deliveries: [Int]) {
        self.settings = settings
        self.events = events
        self.deliveries = deliveries
    }

    /// Generates the simulation `settings` describes, on all cores.
    public static func generate(_ settings: SimulationSettings) throws(SimulationError) -> SimulatedCorpus {
        try settings.validate()
        let population = SimulatedPopulation(settings: settings)
        let products = Catalog.products(seed: settings.seed)
        let chunkSize = 500
        let chunks = (settings.customers + chunkSize - 1) / chunkSize
        let parts = Mutex<[Int: [SimulatedEvent]]>([:])
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var events: [SimulatedEvent] = []
            for index in (chunk * chunkSize)..<min(settings.customers, (chunk + 1) * chunkSize) {
                events += CustomerJourney.events(of: population.customer(index), settings: settings, products: products)
            }
            parts.withLock { $0[chunk] = events }
        }
        let events = parts.withLock { parts in (0..<chunks).flatMap { parts[$0] ?? [] } }
        return SimulatedCorpus(settings: settings, events: events, deliveries: arrivalOrder(events, seed: settings.seed))
    }

    /// Every delivery in arrival order: the event's own arrival, and for a duplicated event a
    /// second copy a second to ten minutes later (a client retrying after a lost answer).
    static func arrivalOrder(_ events: [SimulatedEvent], seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed, stream: 0x5265_7472_7900)
        var keyed: [(arrival: Int64, index: Int)] = []
        keyed.reserveCapacity(events.count + events.count / 50)
        for (index, event) in events.enumerated() {
            keyed.append((event.arrival, index))
            if event.deliveries > 1 { keyed.append((event.arrival + Int64(rng.int(in: 1_000...600_000)), index)) }
        }
        keyed.sort { $0.arrival != $1.arrival ? $0.arrival < $1.arrival : $0.index < $1.index }
        return keyed.map(\.index)
    }

    /// The deliveries of one source, in arrival order.
    public func deliveries(of source: SimulatedSource) -> [Int] {
        deliveries.filter { events[$0].source == source }
    }

    /// Deliveries per source.
    public var deliveryCounts: [SimulatedSource: Int] {
        var counts: [SimulatedSource: Int] = [:]
        for index in deliveries { counts[events[index].source, default: 0] += 1 }
        return counts
    }
}

/// Every generated event ends with `"sentAt":"<24-character RFC 3339 time>"}`. Events are sent
/// long after the simulated moments they describe, so a sender moves every `sentAt` by the same
/// amount — from the end of the simulated period to the moment sending starts — and journeyd's
/// clock-skew correction (`receivedAt − (sentAt − timestamp)`) then recovers each event's simulated
/// time, device clock errors removed.
public enum SentAtStamp {
    /// Bytes from the end of a line to the first character of its `sentAt` value.
    static let suffixLength = 26

    /// Moves the `sentAt` at the end of `line` by `shift` milliseconds, in place.
    public static func shift(_ line: inout [UInt8], by shift: Int64) throws(SimulationError) {
        guard line.count > suffixLength + 10, line[line.count - 1] == UInt8(ascii: "}"), line[line.count - 2] == UInt8(ascii: "\"") else {
            throw .malformed(path: "event", line: 0, reason: "does not end with a sentAt member")
        }
        let start = line.count - suffixLength
        guard let sentAt = Timestamp(rfc3339: String(decoding: line[start..<start + 24], as: UTF8.self)) else {
            throw .malformed(path: "event", line: 0, reason: "the last member is not a sentAt time")
        }
        let text = (sentAt + shift).rfc3339Bytes
        guard text.count == 24 else { throw .malformed(path: "event", line: 0, reason: "sentAt moved out of years 1000–9999") }
        line.replaceSubrange(start..<start + 24, with: text)
    }
}
