import AsyncHTTPClient
import Foundation
import JourneyCore
import JourneyServer
import JourneySimulation

/// Benchmark 7: what a snapshot costs ingest, end to end. The real `journeyd` is started (on
/// `initialSnapshot` when given: a kept snapshot it recovers), filled over HTTPS with
/// `preloadEvents`, then kept under closed-loop load (`connections` workers posting batches
/// back to back) for `seconds` (**before**); then `POST /v1/snapshots` is sent while the same load
/// continues until the snapshot's answer arrives (**during**), and the load goes on for `seconds`
/// more (**after**). Compares events/s and acknowledgement latency of the windows. The after
/// window shows what follows a snapshot (covered WAL segments are deleted) and how far the load's
/// own cost drifted while its customers' journeys grew: at 10M touchpoints a snapshot under load
/// lasts a minute or more. Then the daemon is stopped (SIGTERM: final snapshot) and
/// started again on the same state: restart to ready.
enum SnapshotUnderLoadBenchmark {
    /// One measured stretch of load: the workers' results added up, and how long it lasted.
    struct Window {
        var total: HTTPBenchmark.WorkerResult
        var seconds: Double

        init(_ results: [HTTPBenchmark.WorkerResult], seconds: Double) {
            total = .merged(results)
            self.seconds = seconds
        }

        var eventsPerSecond: Double { Double(total.accepted) / max(seconds, 1e-9) }
        var failed: Int { total.failed }
        var slowest: UInt64 { total.latencies.last ?? 0 }

        func latency(_ quantile: Double) -> UInt64 { Percentile.of(total.latencies, quantile) }
    }

    struct Result {
        var preloaded: Int
        var preloadSeconds: Double
        var before: Window
        var during: Window
        var after: Window
        var snapshotSeconds: Double
        var touchpoints: Int
        var residentBefore: Int?
        var residentAfter: Int?
        var firstFailure: String?
        var stopSeconds: Double
        var readySeconds: Double
        /// The restarted daemon's `msg=recovered` line.
        var recoveredLine: String?
        var residentAfterRestart: Int?
    }

    static func run(
        _ options: HTTPBenchmark.Options, initialSnapshot: String?, preloadEvents: Int, log: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let pool = await HTTPBenchmark.makePool(options, log: log)
        if let initialSnapshot { log("snapshot-load: starting journeyd on \(initialSnapshot) …") }
        let daemon = try await BenchDaemon.start(
            binary: options.binary, label: "snapshot-load", durability: options.durability, keepFiles: options.keepFiles,
            initialSnapshot: initialSnapshot)
        log("snapshot-load: journeyd pid \(daemon.pid) ready on \(daemon.httpAddress)")
        let client = HTTPBenchmark.makeClient(daemon: daemon, connections: options.connections + 1)
        let url = "https://\(daemon.httpAddress)/v1/batch"
        let shared = HTTPBenchmark.Shared()
        do {
            let preloadStart = BenchClock.nanoseconds()
            log("snapshot-load: preloading \(preloadEvents) events …")
            let preload = preloadEvents <= 0 ? [] : try await HTTPBenchmark.load(
                client: client, url: url, pool: pool, gzip: false, shared: shared, connections: options.connections, deadline: nil,
                limit: max(1, preloadEvents / options.batchSize))
            let preloadSeconds = BenchClock.seconds(since: preloadStart)
            let preloaded = preload.reduce(0) { $0 + $1.accepted }

            /// `options.seconds` of load.
            func timedWindow() async throws -> Window {
                let start = BenchClock.nanoseconds()
                let results = try await HTTPBenchmark.load(
                    client: client, url: url, pool: pool, gzip: false, shared: shared, connections: options.connections,
                    deadline: start + UInt64(options.seconds * 1e9), limit: nil)
                return Window(results, seconds: BenchClock.seconds(since: start))
            }

            log("snapshot-load: \(options.seconds) s of load before the snapshot …")
            let residentBefore = ProcessMemory.residentBytes(pid: daemon.pid)
            let before = try await timedWindow()

            log("snapshot-load: POST /v1/snapshots under the same load …")
            let start = BenchClock.nanoseconds()
            async let duringResults = HTTPBenchmark.load(
                client: client, url: url, pool: pool, gzip: false, shared: shared, connections: options.connections, deadline: nil, limit: nil)
            let touchpoints: Int
            do {
                touchpoints = try await takeSnapshot(client: client, daemon: daemon)
            } catch {
                shared.stop.store(true, ordering: .relaxed)
                _ = try? await duringResults
                throw error
            }
            let snapshotSeconds = BenchClock.seconds(since: start)
            shared.stop.store(true, ordering: .relaxed)
            let duringList = try await duringResults
            let during = Window(duringList, seconds: BenchClock.seconds(since: start))
            let residentAfter = ProcessMemory.residentBytes(pid: daemon.pid)
            log("snapshot-load: snapshot of \(touchpoints) touchpoints in \(String(format: "%.1f", snapshotSeconds)) s; \(options.seconds) s of load after it …")
            shared.stop.store(false, ordering: .relaxed)
            let after = try await timedWindow()
            try await client.shutdown()
            log("snapshot-load: restarting journeyd on the same state …")
            let restart = try await daemon.restart()
            let residentAfterRestart = ProcessMemory.residentBytes(pid: restart.daemon.pid)
            let recovered = restart.daemon.log.split(separator: "\n").first { $0.contains("msg=recovered") }.map(String.init)
            _ = await restart.daemon.stop()
            return Result(
                preloaded: preloaded, preloadSeconds: preloadSeconds, before: before, during: during, after: after, snapshotSeconds: snapshotSeconds,
                touchpoints: touchpoints, residentBefore: residentBefore, residentAfter: residentAfter,
                firstFailure: preload.compactMap(\.firstFailure).first ?? [before, during, after].compactMap(\.total.firstFailure).first,
                stopSeconds: restart.stopSeconds, readySeconds: restart.readySeconds, recoveredLine: recovered,
                residentAfterRestart: residentAfterRestart)
        } catch {
            try? await client.shutdown()
            let stopped = await daemon.stop()
            throw BenchError("snapshot-load failed: \(error) (journeyd exit \(stopped.status))\n\(daemon.log.suffix(2000))")
        }
    }

    /// Asks for a snapshot and waits for its manifest; returns its touchpoint count.
    private static func takeSnapshot(client: HTTPClient, daemon: BenchDaemon) async throws -> Int {
        var request = HTTPClientRequest(url: "http://\(daemon.adminAddress)/v1/snapshots")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(BenchDaemon.adminToken)")
        let response = try await client.execute(request, timeout: .seconds(600))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200 else { throw BenchError("POST /v1/snapshots answered \(response.status.code): \(String(buffer: body))") }
        let manifest = try JSONDocument(bytes: Array(buffer: body)).root
        return manifest["counts"]?["touchpoints"]?.int ?? 0
    }
}
