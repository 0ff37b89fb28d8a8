import JourneyCore
import JourneyServer
import JourneySimulation

/// Benchmark 1: parse + normalise throughput on one core.
///
/// A corpus of `POST /v1/batch` bodies is generated up front; each timed pass takes every body
/// through exactly the steps `TrackingAPIController` performs after reading (and gunzipping) a
/// request: `JSONDocument(bytes:)`, the envelope (`batch` array, batch `context`, `sentAt`), and
/// `EventNormaliser.normalise` for every item into a fresh `[NormalisedEvent]`. HTTP, TLS, gzip
/// and the hand-over to the stitcher are not included (benchmark 4 covers the whole path).
enum ParseBenchmark {
    struct Result {
        var events: Int
        var batches: Int
        var corpusBytes: Int
        var eventSizes: Summary
        var passes: Int
        /// Seconds of the measured passes (all events, every pass).
        var seconds: Double
        var bestPassSeconds: Double
        var parseOnlySeconds: Double
        var parseOnlyPasses: Int
        var rejected: Int
        /// Cores used by other processes while the passes ran.
        var foreignCores: Double?

        var bytesPerSecond: Double { Double(corpusBytes * passes) / seconds }
        var eventsPerSecond: Double { Double(events * passes) / seconds }
        var bestBytesPerSecond: Double { Double(corpusBytes) / bestPassSeconds }
        var parseOnlyBytesPerSecond: Double { Double(corpusBytes * parseOnlyPasses) / parseOnlySeconds }
    }

    struct Summary {
        var min: Int
        var mean: Double
        var median: Int
        var p99: Int
        var max: Int

        init(_ values: [Int]) {
            let sorted = values.sorted()
            min = sorted.first ?? 0
            max = sorted.last ?? 0
            median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            p99 = sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, sorted.count * 99 / 100)]
            mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count)
        }
    }

    static func run(seed: UInt64, events: Int, batchSize: Int, minSeconds: Double, log: (String) -> Void) -> Result {
        log("parse: generating \(events) events in batches of \(batchSize) …")
        var generator = CorpusGenerator(seed: seed, population: Population(seed: seed, count: max(1_000, events / 10)))
        var bodies: [[UInt8]] = []
        var sizes: [Int] = []
        sizes.reserveCapacity(events)
        var remaining = events
        while remaining > 0 {
            let batch = generator.batch(events: min(batchSize, remaining))
            bodies.append(batch.body)
            sizes += batch.eventBytes
            remaining -= batch.eventBytes.count
        }
        let corpusBytes = bodies.reduce(0) { $0 + $1.count }
        log("parse: corpus \(bodies.count) batches, \(Format.bytes(Double(corpusBytes))); timing …")

        let normaliser = EventNormaliser(settings: .init())
        let source = BenchSources.web
        var sink = 0
        var rejected = 0

        // Warm-up pass (page faults, caches, branch predictors), then timed passes.
        for body in bodies {
            let (accepted, refused) = ingest(body, normaliser: normaliser, source: source)
            sink &+= accepted
            rejected += refused
        }
        let probe = InterferenceProbe()
        var passes = 0
        var total = 0.0
        var best = Double.infinity
        while passes < 3 || total < minSeconds {
            let start = BenchClock.nanoseconds()
            for body in bodies {
                sink &+= ingest(body, normaliser: normaliser, source: source).accepted
            }
            let seconds = BenchClock.seconds(since: start)
            total += seconds
            best = min(best, seconds)
            passes += 1
        }

        let foreignCores = probe.foreignCores()

        // The parser alone, for the breakdown.
        var parseOnlyPasses = 0
        var parseOnly = 0.0
        while parseOnlyPasses < 3 || parseOnly < minSeconds / 3 {
            let start = BenchClock.nanoseconds()
            for body in bodies {
                sink &+= parseOnlyValueCount(body)
            }
            parseOnly += BenchClock.seconds(since: start)
            parseOnlyPasses += 1
        }
        if sink == 42 { print("") }  // keeps the work observable

        return Result(
            events: sizes.count, batches: bodies.count, corpusBytes: corpusBytes, eventSizes: Summary(sizes), passes: passes,
            seconds: total, bestPassSeconds: best, parseOnlySeconds: parseOnly, parseOnlyPasses: parseOnlyPasses, rejected: rejected,
            foreignCores: foreignCores)
    }

    /// What `TrackingAPIController.accept` + `store` do with a body, minus HTTP and the engine.
    @inline(never)
    static func ingest(_ body: [UInt8], normaliser: EventNormaliser, source: SourceInfo) -> (accepted: Int, rejected: Int) {
        let receivedAt = Timestamp.now
        let document: JSONDocument
        do {
            document = try JSONDocument(bytes: body)
        } catch {
            return (0, 1)
        }
        let root = document.root
        guard root.kind == .object, let batch = root["batch"], batch.kind == .array else { return (0, 1) }
        var envelope = EventNormaliser.Envelope(source: source, receivedAt: receivedAt, impliedType: nil)
        let items = Array(batch.elements)
        if let context = root["context"], context.kind == .object { envelope.batchContext = context }
        if let sentAt = root["sentAt"], !sentAt.isNull {
            guard let text = sentAt.string, let parsed = Timestamp(rfc3339: text) else { return (0, 1) }
            envelope.batchSentAt = parsed
        }
        var events: [NormalisedEvent] = []
        events.reserveCapacity(items.count)
        var rejected = 0
        for item in items {
            do {
                events.append(try normaliser.normalise(item, envelope: envelope))
            } catch {
                rejected += 1
            }
        }
        return (events.count, rejected)
    }

    @inline(never)
    static func parseOnlyValueCount(_ body: [UInt8]) -> Int {
        (try? JSONDocument(bytes: body))?.valueCount ?? 0
    }
}
