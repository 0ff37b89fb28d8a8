import ArgumentParser
import Foundation

/// `journeybench`: measures journeyd's hot paths and prints one table row per number, next to
/// its target. See docs/BENCHMARKS.md.
@main
struct JourneyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journeybench",
        abstract: "Measures journeyd: parse+normalise, stitcher insert rate, memory per touchpoint, end-to-end HTTPS.",
        discussion: "Build both into one directory: swift build -c release --product journeyd, then the same with --product journeybench. Details: docs/BENCHMARKS.md.")

    enum Part: String, CaseIterable, ExpressibleByArgument {
        case parse, stitch, memory, http
        case wal, snapshot, resolve
        case snapshotLoad = "snapshot-load"
        case httpPlain = "http-plain"
        case httpGzip = "http-gzip"
    }

    @Option(name: .long, parsing: .upToNextOption, help: "Run only these (comma or space separated): parse, stitch, memory, http (both variants), http-plain, http-gzip, wal, resolve, snapshot, snapshot-load. Default: all but snapshot and snapshot-load.")
    var only: [String] = []

    @Option(name: .long, help: "PRNG seed for every generated corpus.")
    var seed: UInt64 = 42

    @Option(name: .long, help: "parse: events in the corpus (timed passes repeat over it); --write-corpus: events written.")
    var events: Int = 200_000

    @Option(name: .customLong("min-seconds"), help: "parse: keep repeating passes until this much time was measured.")
    var minSeconds: Double = 3

    @Option(name: .long, help: "stitch/memory: customers in the simulated population.")
    var customers: Int = 200_000

    @Option(name: .customLong("stitch-events"), help: "stitch/memory: events applied to the stitcher.")
    var stitchEvents: Int = 2_000_000

    @Option(name: .long, help: "stitch/memory: events generated and applied per chunk.")
    var chunk: Int = 50_000

    @Option(name: .customLong("scale-customers"), help: "snapshot: customers in the population built for the snapshot/recovery benchmark.")
    var scaleCustomers: Int = 1_000_000

    @Option(name: .customLong("scale-events"), help: "snapshot: touchpoints stored before the snapshot is taken.")
    var scaleEvents: Int = 10_000_000

    @Option(name: .customLong("preload-events"), help: "snapshot-load: events sent to the daemon before the measured windows.")
    var preloadEvents: Int = 2_000_000

    @Option(name: .customLong("start-from"), help: "snapshot-load: start journeyd on this snapshot directory (e.g. one kept by --only snapshot --keep-files), hard-linked into its state dir as its newest snapshot; the preload adds to it.")
    var startFrom: String?

    @Option(name: .customLong("resolve-sizes"), help: "resolve: component sizes (touchpoints), comma separated.")
    var resolveSizes = "1000,10000,100000,1000000"

    @Option(name: .long, help: "http: seconds of load per variant (ignored with --requests).")
    var seconds: Double = 10

    @Option(name: .long, help: "http: send exactly this many requests per variant instead of running for --seconds.")
    var requests: Int?

    @Option(name: .long, help: "http: concurrent HTTP/1.1 keep-alive connections.")
    var connections: Int = 4

    @Option(name: .customLong("batch-size"), help: "Events per batch body (parse corpus and http).")
    var batchSize: Int = 100

    @Option(name: .long, help: "http, snapshot-load: distinct generated batch templates (message ids are patched per request). Default: 500 for http; 20,000 (2M events at the default batch size) for snapshot-load, so that its customers' journeys grow as slowly as real ones.")
    var templates: Int?

    @Option(name: .customLong("gzip-pool"), help: "http-gzip: distinct pre-compressed bodies (default: enough for the run, from the plain variant's rate).")
    var gzipPool: Int?

    @Option(name: .long, help: "http: the journeyd binary (default: next to journeybench).")
    var journeyd: String?

    @Option(name: .long, help: "http: durability setting written to the daemon's config (fsync | interval | none; default: the daemon's).")
    var durability: String?

    @Flag(name: .customLong("keep-files"), help: "http: keep the daemon's temp directory (config, certs, state, log); snapshot: keep the snapshot.")
    var keepFiles = false

    @Option(name: .customLong("recover-from"), help: "Only time loading this snapshot directory's recovery checkpoint in a fresh process (e.g. one kept by --only snapshot --keep-files); with --only snapshot, then time a snapshot of the loaded state.")
    var recoverFrom: String?

    @Flag(name: .long, help: "Print the result table as Markdown.")
    var markdown = false

    @Option(name: .customLong("dump-corpus"), help: "Print this many generated events (one JSON per line) and exit.")
    var dumpCorpus: Int?

    @Option(name: .customLong("write-corpus"), help: ArgumentHelp("Write --events generated events as NDJSON to this file (gzip if it ends in .gz) and exit; the corpus of journeyctl load.", valueName: "file"))
    var writeCorpus: String?

    @Flag(name: .long, help: "--write-corpus, --dump-corpus: events cut down to what bulk feeds send (about 450 bytes instead of 990; every identifier, time and name kept).")
    var lean = false

    mutating func validate() throws {
        for name in selectedNames where Part(rawValue: name) == nil {
            throw ValidationError("--only: unknown part \"\(name)\" (use \(Part.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard events > 0, customers > 0, stitchEvents > 0, chunk > 0, connections > 0, batchSize > 0, templates ?? 1 > 0, seconds > 0 else {
            throw ValidationError("counts, sizes and durations must be positive")
        }
        if let requests, requests <= 0 { throw ValidationError("--requests must be positive") }
    }

    private var selectedNames: [String] {
        only.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    private func selected(_ part: Part) -> Bool {
        let names = Set(selectedNames)
        // The 10M-touchpoint snapshot benchmark takes minutes and 7 GiB: only when asked for.
        if names.isEmpty { return part != .snapshot && part != .snapshotLoad }
        switch part {
        case .httpPlain: return names.contains("http") || names.contains("http-plain")
        case .httpGzip: return names.contains("http") || names.contains("http-gzip")
        default: return names.contains(part.rawValue)
        }
    }

    func run() async throws {
        let log: @Sendable (String) -> Void = { message in
            FileHandle.standardError.write(Data(("journeybench: " + message + "\n").utf8))
        }
        #if DEBUG
        log("WARNING: this is a debug build; numbers are meaningless. Use swift build -c release.")
        #endif
        if let dumpCorpus {
            try CorpusFile.write(events: dumpCorpus, seed: seed, lean: lean, to: FileHandle.standardOutput, gzip: false)
            return
        }
        if let writeCorpus {
            let start = BenchClock.nanoseconds()
            try CorpusFile.write(events: events, seed: seed, lean: lean, toPath: writeCorpus)
            log("wrote \(Format.number(Double(events))) events to \(writeCorpus) in \(String(format: "%.1f", BenchClock.seconds(since: start))) s")
            return
        }
        var table = ResultTable()
        if let recoverFrom {
            let result = try await DurabilityBenchmark.recover(
                snapshotDirectory: recoverFrom, thenSnapshot: Set(selectedNames).contains(Part.snapshot.rawValue), log: log)
            let name = "6 recovery (fresh process)"
            table.add(name, "checkpoint load", String(format: "%.1f s", result.seconds), target: "≤ 30 s", met: result.seconds <= 30)
            table.add(name, "RSS after load", Format.bytes(Double(result.resident)))
            if let snapshot = result.snapshot {
                table.add(name, "snapshot of the loaded state, idle", String(format: "%.1f s", snapshot.seconds), target: "≤ 30 s", met: snapshot.seconds <= 30)
                table.add(name, "CPU time of that snapshot", String(format: "%.1f s", snapshot.cpuSeconds))
                table.add(name, "RSS peak in snapshot", Format.bytes(Double(snapshot.residentPeak)))
            }
            table.note("recover: \(Format.number(Double(result.profiles))) profiles, \(Format.number(Double(result.touchpoints))) touchpoints from \(recoverFrom)")
            print(table.render(markdown: markdown), terminator: "")
            return
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        table.note("machine: \(cores) cores, \(Format.bytes(Double(ProcessInfo.processInfo.physicalMemory))) RAM; load average at start \(ProcessStats.loadAverage()); seed \(seed)")

        if selected(.parse) {
            let result = ParseBenchmark.run(seed: seed, events: events, batchSize: batchSize, minSeconds: minSeconds, log: log)
            let megabytes = result.bytesPerSecond / 1e6
            table.add("1 parse+normalise (1 core)", "throughput", Format.number(megabytes, decimals: 1) + " MB/s", target: "≥ 300 MB/s", met: megabytes >= 300)
            table.add("1 parse+normalise (1 core)", "events", Format.number(result.eventsPerSecond) + " events/s", target: "≥ 600,000 events/s", met: result.eventsPerSecond >= 600_000)
            table.add("1 parse+normalise (1 core)", "JSONDocument parse only", Format.number(result.parseOnlyBytesPerSecond / 1e6, decimals: 1) + " MB/s")
            let s = result.eventSizes
            table.note(
                "parse: \(Format.number(Double(result.events))) events in \(result.batches) batches of \(batchSize), \(Format.bytes(Double(result.corpusBytes))); event bytes min \(s.min) / median \(s.median) / mean \(Int(s.mean)) / p99 \(s.p99) / max \(s.max); \(result.passes) passes in \(String(format: "%.2f", result.seconds)) s, best pass \(Format.number(result.bestBytesPerSecond / 1e6, decimals: 1)) MB/s; rejected \(result.rejected); MB = 10^6 bytes of uncompressed batch JSON")
            interference(&table, "parse", result.foreignCores)
        }

        if selected(.stitch) || selected(.memory) {
            log("stitch: \(customers) customers, \(stitchEvents) events in chunks of \(chunk) …")
            let result = StitchBenchmark.run(seed: seed, customers: customers, events: stitchEvents, chunkSize: chunk, log: log)
            if selected(.stitch) {
                table.add("2 stitcher insert (1 core)", "rate", Format.number(result.touchpointsPerSecond) + " touchpoints/s", target: "≥ 1,000,000 /s", met: result.touchpointsPerSecond >= 1_000_000)
            }
            if selected(.memory) {
                table.add("3 memory per touchpoint", "RSS growth / touchpoints (raw)", Format.number(result.rawBytesPerTouchpoint) + " B")
                table.add("3 memory per touchpoint", "average properties JSON", Format.number(result.propertiesPerTouchpoint) + " B")
                table.add("3 memory per touchpoint", "raw − properties (net)", Format.number(result.netBytesPerTouchpoint) + " B", target: "≤ 150 B + properties", met: result.netBytesPerTouchpoint <= 150)
            }
            let c = result.counters
            table.note(
                "stitch: \(Format.number(Double(result.events))) events (\(result.stored) stored, \(result.duplicates) duplicates, \(result.rejected) rejected by the normaliser) for \(Format.number(Double(result.customers))) customers → \(Format.number(Double(result.profiles))) profiles, \(Format.number(Double(result.identifiers))) identifiers, \(Format.number(Double(result.touchpoints))) touchpoints; merges \(c.merges), blocked merges \(c.blockedMerges), components re-resolved \(c.reResolutions) (\(c.reResolvedTouchpoints) touchpoints replayed), links refused \(c.linksRefused), dropped over cap \(c.touchpointsDroppedOverCap); apply time \(String(format: "%.2f", result.applySeconds)) s")
            table.note(
                "memory: RSS \(Format.bytes(Double(result.residentBefore))) before the stitcher, \(Format.bytes(Double(result.residentAfter))) after (malloc_trim both times), growth \(Format.bytes(Double(result.residentAfter - result.residentBefore))); properties \(Format.bytes(Double(result.propertiesBytes))) total; traits carried \(Format.bytes(Double(result.traitBytes))) (kept per profile, counted in net)")
            interference(&table, "stitch/memory", result.foreignCores)
        }

        if selected(.resolve) {
            let sizes = resolveSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            for row in ResolveBenchmark.run(sizes: sizes, log: log) {
                table.add(
                    "9 re-resolution (1 core)", "component of \(Format.number(Double(row.touchpoints))) touchpoints",
                    String(format: "%.2f ms", row.milliseconds) + String(format: " (%.2f µs/touchpoint)", row.microsecondsPerTouchpoint))
                table.note(
                    "resolve: \(Format.number(Double(row.touchpoints))) touchpoints in \(row.profiles) profiles tied into one component by \(row.blockedMerges) refused merges; one late event replays it all (median of 5)")
            }
        }

        if selected(.wal) {
            let result = try await DurabilityBenchmark.walAppendRate(seed: seed, seconds: min(seconds, 10), appenders: 8, log: log)
            table.add("5 WAL group commit (fsync)", "appends", Format.number(result.eventsPerSecond) + " events/s", target: "≥ 300,000 events/s", met: result.eventsPerSecond >= 300_000)
            table.add("5 WAL group commit (fsync)", "syncs", Format.number(Double(result.syncs) / result.seconds) + " fsync/s")
            table.add("5 WAL group commit (fsync)", "RSS peak", Format.bytes(Double(result.residentPeak)))
            table.note("wal: 8 appenders × 100-event batches of real encoded events, each waiting for its fsync; \(Format.bytes(Double(result.bytes))) written")
        }

        if selected(.snapshot) {
            log("snapshot: \(scaleCustomers) customers, \(scaleEvents) touchpoints …")
            let result = try await DurabilityBenchmark.scale(
                seed: seed, customers: scaleCustomers, events: scaleEvents, chunkSize: chunk, keepFiles: keepFiles, log: log)
            let name = "6 snapshot + recovery"
            table.add(name, "snapshot (2 background threads)", String(format: "%.1f s", result.snapshotSeconds), target: "≤ 30 s", met: result.snapshotSeconds <= 30)
            table.add(name, "recovery: checkpoint load", String(format: "%.1f s", result.recoverySeconds), target: "≤ 30 s", met: result.recoverySeconds <= 30)
            table.add(name, "WAL replay (apply)", Format.number(result.replayEventsPerSecond) + " events/s")
            table.add(name, "RSS after build / peak in snapshot", Format.bytes(Double(result.residentAfterBuild)) + " / " + Format.bytes(Double(result.residentPeakDuringSnapshot)))
            let ratio = result.applyRateDuringSnapshot / result.applyRateBefore
            table.add(name, "apply rate during / before", Format.number(ratio * 100) + " %", target: "≥ 80 %", met: ratio >= 0.8)
            table.add(name, "first apply after the cut", String(format: "%.0f µs", result.firstApplyAfterCutMicroseconds))
            table.add(name, "slowest apply during snapshot", String(format: "%.1f ms", result.maxApplyDuringSnapshotMicroseconds / 1000), target: "< 50 ms", met: result.maxApplyDuringSnapshotMicroseconds < 50_000)
            table.note("snapshot: \(Format.number(Double(result.profiles))) profiles, \(Format.number(Double(result.touchpoints))) touchpoints, \(Format.bytes(Double(result.snapshotBytes))) of files; built in \(String(format: "%.0f", result.buildSeconds)) s")
        }

        if selected(.httpPlain) || selected(.httpGzip) {
            var options = HTTPBenchmark.Options(
                binary: journeyd ?? BenchDaemon.defaultBinary(), connections: connections, seconds: seconds, requests: requests,
                batchSize: batchSize, gzip: false, templates: templates ?? 500, gzipPool: 0, seed: seed, customers: .standalone(seed: seed),
                durability: durability, keepFiles: keepFiles)
            var plainRate: Double?
            if selected(.httpPlain) {
                let pool = await HTTPBenchmark.makePool(options, log: log)
                let result = try await HTTPBenchmark.run(options, pool: pool, log: log)
                plainRate = result.requestsPerSecond
                addRows(&table, result)
            }
            if selected(.httpGzip) {
                options.gzip = true
                if let gzipPool {
                    options.gzipPool = gzipPool
                } else if let requests {
                    // The warm-up takes 3 per connection, and each worker draws one number past
                    // the end of the warm-up.
                    options.gzipPool = requests + connections * 4
                } else {
                    // Enough distinct bodies for the run at 1.5× the plain rate (or a guess).
                    let rate = plainRate ?? 500
                    options.gzipPool = min(40_000, Int(rate * 1.5 * seconds) + connections * 4)
                }
                let pool = await HTTPBenchmark.makePool(options, log: log)
                let result = try await HTTPBenchmark.run(options, pool: pool, log: log)
                addRows(&table, result)
            }
        }

        if selected(.snapshotLoad) {
            let options = HTTPBenchmark.Options(
                binary: journeyd ?? BenchDaemon.defaultBinary(), connections: connections, seconds: seconds, requests: nil,
                batchSize: batchSize, gzip: false, templates: templates ?? 20_000, gzipPool: 0, seed: seed,
                customers: .init(population: DurabilityBenchmark.scalePopulation(seed: seed, customers: scaleCustomers), start: Int64(Date().timeIntervalSince1970 * 1000)),
                durability: durability, keepFiles: keepFiles)
            let result = try await SnapshotUnderLoadBenchmark.run(options, initialSnapshot: startFrom, preloadEvents: preloadEvents, log: log)
            let name = "7 snapshot under HTTPS load (\(connections) conn)"
            let ratio = result.during.eventsPerSecond / max(result.before.eventsPerSecond, 1)
            table.add(
                name, "events/s before / during / after",
                [result.before, result.during, result.after].map { Format.number($0.eventsPerSecond) }.joined(separator: " / "))
            table.add(name, "throughput during / before", String(format: "%.0f %%", ratio * 100), target: "≥ 80 %", met: ratio >= 0.8)
            table.add(name, "throughput after / before", String(format: "%.0f %%", result.after.eventsPerSecond / max(result.before.eventsPerSecond, 1) * 100))
            table.add(name, "ack p50 / p99 before", Format.milliseconds(nanoseconds: result.before.latency(0.5)) + " / " + Format.milliseconds(nanoseconds: result.before.latency(0.99)))
            let p99 = result.during.latency(0.99)
            table.add(name, "ack p50 / p99 during", Format.milliseconds(nanoseconds: result.during.latency(0.5)) + " / " + Format.milliseconds(nanoseconds: p99), target: "p99 < 50 ms", met: p99 < 50_000_000)
            table.add(name, "ack max before / during", Format.milliseconds(nanoseconds: result.before.slowest) + " / " + Format.milliseconds(nanoseconds: result.during.slowest))
            table.add(name, "snapshot under load", String(format: "%.1f s", result.snapshotSeconds))
            table.add(name, "SIGTERM to exit (final snapshot)", String(format: "%.1f s", result.stopSeconds))
            table.add(name, "restart to ready", String(format: "%.1f s", result.readySeconds), target: "≤ 30 s", met: result.readySeconds <= 30)
            table.add(name, "journeyd RSS after restart", result.residentAfterRestart.map { Format.bytes(Double($0)) } ?? "?")
            var note = "snapshot-load: \(Format.number(Double(result.preloaded))) events preloaded in \(String(format: "%.0f", result.preloadSeconds)) s; snapshot of \(Format.number(Double(result.touchpoints))) touchpoints; windows \([result.before, result.during, result.after].map { String(format: "%.1f", $0.seconds) }.joined(separator: " / ")) s, \(result.before.failed + result.during.failed + result.after.failed) failed requests; journeyd RSS \(result.residentBefore.map { Format.bytes(Double($0)) } ?? "?") before, \(result.residentAfter.map { Format.bytes(Double($0)) } ?? "?") after"
            if let failure = result.firstFailure { note += "; first failure: \(failure)" }
            if let recovered = result.recoveredLine { note += "; after restart: \(recovered)" }
            table.note(note)
        }

        print(table.render(markdown: markdown), terminator: "")
    }

    private func addRows(_ table: inout ResultTable, _ result: HTTPBenchmark.Result) {
        let name = "4 HTTPS " + (result.gzip ? "gzip" : "plain") + " (\(result.connections) conn)"
        table.add(name, "events", Format.number(result.eventsPerSecond) + " events/s")
        table.add(name, "requests", Format.number(result.requestsPerSecond, decimals: 1) + " req/s")
        table.add(name, "latency p50", Format.milliseconds(nanoseconds: result.latency(0.50)))
        table.add(name, "latency p90", Format.milliseconds(nanoseconds: result.latency(0.90)))
        table.add(name, "latency p99", Format.milliseconds(nanoseconds: result.latency(0.99)))
        table.add(name, "latency max", Format.milliseconds(nanoseconds: result.latencies.last ?? 0))
        table.add(name, "journeyd RSS at end", result.residentAtEnd.map { Format.bytes(Double($0)) } ?? "?")
        let cpu = [
            result.daemonCPUSeconds.map { String(format: "journeyd %.2f", $0 / result.seconds) },
            result.clientCPUSeconds.map { String(format: "load generator %.2f", $0 / result.seconds) },
        ].compactMap { $0 }.joined(separator: ", ")
        var note =
            "\(result.gzip ? "http-gzip" : "http"): \(result.requests) requests, \(Format.number(Double(result.accepted))) events accepted (\(result.duplicates) duplicates), \(result.failed) failed in \(String(format: "%.2f", result.seconds)) s; body \(Format.bytes(Double(result.wireBytes) / Double(max(1, result.requests)))) on the wire (\(Format.bytes(Double(result.jsonBytes) / Double(max(1, result.requests)))) JSON), \(Format.number(Double(result.jsonBytes) / result.seconds / 1e6, decimals: 1)) MB/s of JSON; CPU cores busy: \(cpu); journeyd RSS at ready \(result.residentAtReady.map { Format.bytes(Double($0)) } ?? "?"); SIGTERM → exit \(result.exitStatus) in \(String(format: "%.2f", result.shutdownSeconds)) s"
        if let failure = result.firstFailure { note += "; first failure: \(failure)" }
        if let stats = result.daemonStats { note += "; /v1/stats \(stats)" }
        table.note(note)
        interference(&table, result.gzip ? "http-gzip" : "http", result.foreignCores)
    }

    /// Flags a measurement taken while other processes were using the CPU.
    private func interference(_ table: inout ResultTable, _ name: String, _ cores: Double?) {
        guard let cores, cores >= 0.1 else { return }
        table.note(String(format: "WARNING \(name): other processes used %.2f cores during the measurement; the numbers are low by roughly that share. Re-run on an idle machine.", cores))
    }
}
