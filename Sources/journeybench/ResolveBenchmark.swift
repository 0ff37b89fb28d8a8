import JourneyCore

/// Benchmark 9: what re-resolving one large component costs. A chain of customers, each with a
/// user id and a device that the next customer also used once (so every device is seen with two
/// user ids: not shared, but enough to tie them all into one component, with a refused merge per
/// link), is applied in canonical order; then events that arrive earlier than everything in it
/// force the whole component to be replayed in canonical order, and each such apply is timed.
///
/// Built from `NormalisedEvent`s directly (no JSON): only the stitcher is measured.
enum ResolveBenchmark {
    struct Row {
        var touchpoints: Int
        var profiles: Int
        var blockedMerges: Int
        /// Median time of one late apply (the whole component replayed).
        var milliseconds: Double
        var microsecondsPerTouchpoint: Double { milliseconds * 1000 / Double(touchpoints) }
    }

    /// One row per component size (touchpoints).
    static func run(sizes: [Int], repeats: Int = 5, log: (String) -> Void) -> [Row] {
        sizes.map { size in
            log("resolve: component of \(size) touchpoints …")
            return measure(touchpoints: size, repeats: repeats)
        }
    }

    private static func measure(touchpoints: Int, repeats: Int) -> Row {
        let eventsPerCustomer = 50
        let customers = max(2, touchpoints / eventsPerCustomer)
        let source = SourceInfo(name: "website", channel: "web")
        let base = Timestamp(millisecondsSinceEpoch: 1_740_787_200_000)
        func event(_ messageID: String, at offset: Int64, _ identifiers: [Identifier]) -> NormalisedEvent {
            let time = Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + offset)
            return NormalisedEvent(
                messageID: messageID, source: source.name, channel: source.channel, type: .track, name: "Product Viewed", timestamp: time,
                receivedAt: time, identifiers: identifiers, phase: .explore, properties: Array(#"{"sku":"A-1","price":12.5}"#.utf8)[...])
        }
        var events: [NormalisedEvent] = []
        events.reserveCapacity(customers * eventsPerCustomer)
        for customer in 0..<customers {
            let user = Identifier(type: .userID, value: "user-\(customer)")
            let device = Identifier(type: .deviceID, value: "device-\(customer)")
            for index in 0..<eventsPerCustomer {
                var identifiers = [user, device]
                if index == 0, customer > 0 { identifiers = [user, Identifier(type: .deviceID, value: "device-\(customer - 1)")] }
                events.append(event("m-\(customer)-\(index)", at: Int64(customer * eventsPerCustomer + index) * 1000, identifiers))
            }
        }
        var stitcher = Stitcher(policy: (try? IdentityPolicy())!)
        for start in stride(from: 0, to: events.count, by: 100) {
            _ = stitcher.apply(events[start..<min(start + 100, events.count)])
        }
        precondition(stitcher.counters.reResolutions == 0, "the build must be in canonical order")
        var samples: [Double] = []
        for round in 0..<repeats {
            let late = event("late-\(round)", at: -Int64(round + 1) * 1000, [Identifier(type: .deviceID, value: "device-0")])
            let start = BenchClock.nanoseconds()
            _ = stitcher.apply(late)
            samples.append(Double(BenchClock.nanoseconds() - start) / 1e6)
        }
        precondition(stitcher.counters.reResolutions == repeats, "each late event re-resolves the component")
        samples.sort()
        return Row(
            touchpoints: stitcher.touchpointCount, profiles: stitcher.profileCount, blockedMerges: stitcher.counters.blockedMerges,
            milliseconds: samples[samples.count / 2])
    }
}
