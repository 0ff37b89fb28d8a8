import CoreMetrics
import Hummingbird
import JourneyCore
import Metrics
import NIOCore
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics. Ingest paths record through swift-metrics (`Counter`,
/// `Timer`, `Meter`, bootstrapped once per process onto a swift-prometheus registry); the
/// engine's totals, the tracking API's requests in progress and the last snapshot are read at
/// scrape time and brought up to date there.
///
/// One per process, shared by all tasks (`Sendable`; the registry and swift-metrics handlers
/// synchronise themselves, the scrape-time totals sit behind a `Mutex`).
final class DaemonMetrics: Sendable {
    enum Listener: String { case http, stream }

    let registry: PrometheusCollectorRegistry
    private let lastTotals = Mutex<[String: Int]>([:])
    private let openStreamConnections = Atomic<Int>(0)
    private let syncsSinceStats = Mutex<[Duration]>([])

    /// Stream connections past their handshake and not yet closed.
    var streamConnections: Int { openStreamConnections.load(ordering: .relaxed) }

    /// Bootstraps swift-metrics onto a new registry; call once per process.
    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
    }

    // MARK: Recorded where it happens

    func eventsReceived(_ count: Int, source: String, listener: Listener) {
        guard count > 0 else { return }
        Counter(label: "journeyd_events_received_total", dimensions: [("listener", listener.rawValue), ("source", source)])
            .increment(by: count)
    }

    func eventsRejected(_ count: Int, source: String, listener: Listener) {
        guard count > 0 else { return }
        Counter(label: "journeyd_events_rejected_total", dimensions: [("listener", listener.rawValue), ("source", source)])
            .increment(by: count)
    }

    func duplicates(_ count: Int, source: String, listener: Listener) {
        guard count > 0 else { return }
        Counter(label: "journeyd_events_duplicate_total", dimensions: [("listener", listener.rawValue), ("source", source)])
            .increment(by: count)
    }

    /// From receiving a request or chunk to acknowledging it (after the WAL sync that covers it).
    func acknowledged(after duration: Duration, listener: Listener) {
        Timer(label: "journeyd_ack_seconds", dimensions: [("listener", listener.rawValue)]).recordNanoseconds(duration.wholeNanoseconds)
    }

    /// One WAL sync (`fdatasync`) of `duration`, reported by the WAL's flusher thread.
    func walSynced(after duration: Duration) {
        Timer(label: "journeyd_wal_fsync_seconds").recordNanoseconds(duration.wholeNanoseconds)
        syncsSinceStats.withLock { durations in
            if durations.count < Self.syncSamplesKept { durations.append(duration) }
        }
    }

    /// The WAL sync durations since the last call (at most `syncSamplesKept`), for the stats line.
    func takeSyncDurations() -> [Duration] {
        syncsSinceStats.withLock { durations in
            defer { durations.removeAll(keepingCapacity: true) }
            return durations
        }
    }

    static let syncSamplesKept = 200_000

    func streamConnectionOpened() {
        openStreamConnections.add(1, ordering: .relaxed)
        Meter(label: "journeyd_stream_connections").increment()
    }

    func streamConnectionClosed() {
        openStreamConnections.subtract(1, ordering: .relaxed)
        Meter(label: "journeyd_stream_connections").decrement()
    }

    func tlsHandshakeFailed(listener: Listener) {
        Counter(label: "journeyd_tls_handshake_failures_total", dimensions: [("listener", listener.rawValue)]).increment()
    }

    // MARK: Read at scrape time

    /// Brings the engine's totals, the tracking API's requests in progress and the snapshot
    /// gauges up to date, then renders the registry in the Prometheus text format.
    func scrape(engine: IngestEngine, snapshotter: Snapshotter, admission: AdmissionGate) async -> [UInt8] {
        Gauge(label: "journeyd_http_requests_in_progress").record(admission.inProgress)
        let stats = await engine.stats()
        let last = await snapshotter.last
        Gauge(label: "journeyd_profiles").record(stats.profiles)
        Gauge(label: "journeyd_identifiers").record(stats.identifiers)
        Gauge(label: "journeyd_touchpoints").record(stats.touchpoints)
        // The current profiles' merge history: re-resolution and erasure can lower these, so gauges.
        Gauge(label: "journeyd_merges").record(stats.stitcher.merges)
        Gauge(label: "journeyd_blocked_merges").record(stats.stitcher.blockedMerges)
        Gauge(label: "journeyd_links_refused").record(stats.stitcher.linksRefused)
        Gauge(label: "journeyd_shared_identifiers").record(stats.sharedIdentifiers)
        Gauge(label: "journeyd_suppressed_identifiers").record(stats.suppressedIdentifiers)
        var totals: [(String, Int)] = [
            ("journeyd_re_resolutions_total", stats.stitcher.reResolutions),
            ("journeyd_re_resolved_touchpoints_total", stats.stitcher.reResolvedTouchpoints),
            ("journeyd_erasures_total", stats.stitcher.erasures), ("journeyd_splits_total", stats.stitcher.splits),
        ]
        if let wal = stats.wal {
            totals += [("journeyd_wal_bytes_written_total", Int(wal.bytesWritten)), ("journeyd_wal_syncs_total", Int(wal.syncs))]
        }
        let increments: [(String, Int)] = lastTotals.withLock { previous in
            totals.map { name, value in
                defer { previous[name] = value }
                return (name, max(0, value - (previous[name] ?? 0)))
            }
        }
        for (name, increment) in increments { Counter(label: name).increment(by: increment) }
        if let last {
            Gauge(label: "journeyd_snapshot_last_duration_seconds").record(Double(last.durationMilliseconds) / 1000)
            let age = Timestamp.now.millisecondsSinceEpoch - last.manifest.createdAt.millisecondsSinceEpoch
            Gauge(label: "journeyd_snapshot_age_seconds").record(Double(age) / 1000)
        }
        return registry.emitToBuffer()
    }

    /// `GET /metrics` on the admin listener (no token: no customer data in it).
    func addRoute(to router: Router<BasicRequestContext>, engine: IngestEngine, snapshotter: Snapshotter, admission: AdmissionGate) {
        router.get("/metrics") { _, _ in
            let body = await self.scrape(engine: engine, snapshotter: snapshotter, admission: admission)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
