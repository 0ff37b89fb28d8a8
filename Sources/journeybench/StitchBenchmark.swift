import JourneyCore
import JourneyServer
import JourneySimulation

/// Benchmarks 2 and 3: the stitcher's insert rate on one core, and the resident memory the
/// identity graph + journey store need per stored touchpoint.
///
/// Events are generated and normalised in chunks (untimed); only `Stitcher.apply` is timed. Each
/// chunk is dropped before the next is made, so at the end the process holds the stitcher and
/// little else: RSS is read (after `malloc_trim`) before the stitcher is created and after the
/// last chunk is released, and the difference is divided by the touchpoints stored.
enum StitchBenchmark {
    struct Result {
        var customers: Int
        var events: Int
        var stored: Int
        var duplicates: Int
        var rejected: Int
        var touchpoints: Int
        var profiles: Int
        var identifiers: Int
        var counters: Stitcher.Counters
        /// Profile id changes because a touchpoint earlier than the profile's first arrived late.
        var applySeconds: Double
        var residentBefore: Int
        var residentAfter: Int
        /// Sum of `properties.count` over stored events.
        var propertiesBytes: Int
        /// Sum of trait JSON bytes carried by stored events (kept per profile, latest per key).
        var traitBytes: Int
        /// Cores used by other processes while events were being applied.
        var foreignCores: Double?

        var touchpointsPerSecond: Double { Double(events) / applySeconds }
        var rawBytesPerTouchpoint: Double { Double(residentAfter - residentBefore) / Double(max(1, touchpoints)) }
        var propertiesPerTouchpoint: Double { Double(propertiesBytes) / Double(max(1, touchpoints)) }
        var netBytesPerTouchpoint: Double { rawBytesPerTouchpoint - propertiesPerTouchpoint }
    }

    static func run(seed: UInt64, customers: Int, events: Int, chunkSize: Int, log: (String) -> Void) -> Result {
        let policy: IdentityPolicy
        do {
            policy = try IdentityPolicy()
        } catch {
            fatalError("default identity policy: \(error)")
        }
        let population = Population(seed: seed &+ 1, count: customers)
        var generator = CorpusGenerator(seed: seed &+ 1, population: population)
        var normaliser = BatchNormaliser()
        let chunkSize = max(100, chunkSize)

        var meter = InterferenceMeter()
        ProcessStats.trimHeap()
        let before = ProcessMemory.residentBytes() ?? 0
        var stitcher = Stitcher(policy: policy)

        var applied = 0
        var stored = 0
        var duplicates = 0
        var propertiesBytes = 0
        var traitBytes = 0
        var nanoseconds: UInt64 = 0
        var nextReport = events / 10
        do {
            var chunk: [NormalisedEvent] = []
            chunk.reserveCapacity(chunkSize)
            while applied < events {
                let wanted = min(chunkSize, events - applied)
                chunk.removeAll(keepingCapacity: true)
                while chunk.count < wanted {
                    normaliser.normalise(generator.batch(events: min(100, wanted - chunk.count)), into: &chunk)
                }
                meter.begin()
                let start = BenchClock.nanoseconds()
                // As the engine does: a request's (or a stream read's) events at a time.
                for start in stride(from: 0, to: chunk.count, by: 100) {
                    let batch = chunk[start..<min(start + 100, chunk.count)]
                    let batchDuplicates = stitcher.apply(batch)
                    duplicates += batchDuplicates
                    stored += batch.count - batchDuplicates
                }
                nanoseconds += BenchClock.nanoseconds() - start
                meter.end()
                for event in chunk {
                    propertiesBytes += event.properties.count
                    for trait in event.traits { traitBytes += trait.key.utf8.count + trait.json.count }
                }
                applied += chunk.count
                if applied >= nextReport {
                    log("stitch: \(applied)/\(events) events, \(Format.number(Double(applied) / (Double(nanoseconds) / 1e9))) touchpoints/s so far")
                    nextReport += events / 10
                }
            }
        }
        // The last chunk is gone; what is left is the stitcher.
        ProcessStats.trimHeap()
        let after = ProcessMemory.residentBytes() ?? 0
        let result = Result(
            customers: customers, events: applied, stored: stored, duplicates: duplicates, rejected: normaliser.rejected,
            touchpoints: stitcher.touchpointCount, profiles: stitcher.profileCount, identifiers: stitcher.identifierCount,
            counters: stitcher.counters,
            applySeconds: Double(nanoseconds) / 1e9, residentBefore: before, residentAfter: after,
            propertiesBytes: propertiesBytes, traitBytes: traitBytes, foreignCores: meter.foreignCores)
        withExtendedLifetime(stitcher) {}
        return result
    }
}
