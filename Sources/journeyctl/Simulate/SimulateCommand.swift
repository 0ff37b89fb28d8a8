import ArgumentParser
import Foundation
import JourneyCore
import JourneySimulation

/// `journeyctl simulate`: generates a population of customers with ground truth, writes it, and
/// optionally sends it to journeyd over HTTPS or the TLS stream with a live progress display and
/// an HDR-histogram latency summary. docs/SIMULATE.md describes the population, the files and the
/// numbers.
///
/// The command's task generates and writes; sending runs on the senders' own tasks and event
/// loops, with the progress display as a sibling task.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate customers across web, app, email, call centre and store, with ground truth; send them to journeyd.",
        discussion: """
            Writes DIR/truth.jsonl.gz (message id → true customer, and the identifiers each event carried), \
            DIR/simulation.json, DIR/journeyd-sources.yaml (the sources and the loyalty_id identifier a daemon \
            needs to accept the events) and, with --write-corpus, DIR/events/<source>.jsonl.gz. With --https or \
            --stream the events are then sent, every sentAt moved to the moment sending starts so that journeyd's \
            clock-skew correction recovers the simulated times. The same --seed and sizes give the same events.
            """)

    @Option(help: "Customers in the population.")
    var customers = 2_000

    @Option(help: "Days the simulated period lasts.")
    var days = 28

    @Option(help: "Seed of every random choice.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Start of the simulated period (RFC 3339).", valueName: "time"))
    var start = SimulationSettings.defaultStart.description

    @Option(name: .customLong("shared-device-rate"), help: "Share of households (customer pairs) sharing a device both log in on.")
    var sharedDeviceRate = HardCaseRates().sharedDevice

    @Option(name: .customLong("junk-rate"), help: "Share of events carrying a junk identifier value (\"null\", \"undefined\", \"0\", all-zero UUID …).")
    var junkRate = HardCaseRates().junk

    @Option(name: .customLong("duplicate-rate"), help: "Share of events delivered twice.")
    var duplicateRate = HardCaseRates().duplicate

    @Option(name: .customLong("out-of-order-rate"), help: "Share of web/app sessions and server-side events delivered 1–48 h late.")
    var outOfOrderRate = HardCaseRates().outOfOrder

    @Option(name: .customLong("clock-skew-rate"), help: "Share of devices whose clock is off (1 min to 36 h); sentAt carries the error too.")
    var clockSkewRate = HardCaseRates().clockSkew

    @Option(help: ArgumentHelp("Directory for the ground truth, manifest, config fragment and corpus.", valueName: "dir"))
    var out = "simulation"

    @Flag(name: .customLong("write-corpus"), help: "Also write each source's events to DIR/events/<source>.jsonl.gz, in arrival order.")
    var writeCorpus = false

    @Option(name: .customLong("key-prefix"), help: "Write keys are <prefix>-<source>-write-key.")
    var keyPrefix = "sim"

    @Flag(name: .customLong("print-config"), help: "Print the journeyd config fragment (sources, identity.custom) and exit.")
    var printConfig = false

    @Option(help: ArgumentHelp("Send over HTTPS to this tracking listener (POST /v1/batch).", valueName: "host:port"))
    var https: String?

    @Option(help: ArgumentHelp("Send over the TLS stream to this listener.", valueName: "host:port"))
    var stream: String?

    @Option(name: .long, help: ArgumentHelp("CA certificate(s) to trust for the daemon (PEM); default: the system's roots.", valueName: "file"))
    var ca: String?

    @Option(help: "Parallel connections (stream: shared out among the sources, at least one each).")
    var connections = 4

    @Option(help: ArgumentHelp("Target events per second over all connections; 0: as fast as the daemon answers.", valueName: "events/s"))
    var rate = 0.0

    @Option(name: .customLong("batch-size"), help: "HTTPS: events per POST /v1/batch (one source per batch).")
    var batchSize = 100

    @Flag(help: "HTTPS: gzip each body (level 1, before the clock starts) and send Content-Encoding: gzip.")
    var gzip = false

    @Option(help: ArgumentHelp("Stream: most bytes per connection written but not yet acknowledged.", valueName: "bytes"))
    var window = ByteSizeArgument(bytes: 16 << 20)

    @Option(name: .customLong("write-size"), help: ArgumentHelp("Stream: bytes per write (whole lines).", valueName: "bytes"))
    var writeSize = ByteSizeArgument(bytes: 128 << 10)

    @Flag(name: .customLong("no-progress"), help: "No progress display on stderr.")
    var noProgress = false

    @Flag(help: "Print the summary as one JSON object on stdout.")
    var json = false

    func validate() throws {
        guard https == nil || stream == nil else { throw ValidationError("--https and --stream go one at a time") }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard (1...2_500).contains(batchSize) else { throw ValidationError("--batch-size must lie between 1 and 2500 (journeyd's batch limit)") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard Timestamp(rfc3339: start) != nil else { throw ValidationError("--start \"\(start)\" is not an RFC 3339 time") }
        guard (1 << 10...16 << 20).contains(writeSize.bytes) else { throw ValidationError("--write-size must lie between 1KiB and 16MiB") }
        do {
            try settings.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    private var settings: SimulationSettings {
        SimulationSettings(
            seed: seed, customers: customers, days: days, start: Timestamp(rfc3339: start) ?? SimulationSettings.defaultStart,
            rates: HardCaseRates(
                sharedDevice: sharedDeviceRate, junk: junkRate, duplicate: duplicateRate, outOfOrder: outOfOrderRate, clockSkew: clockSkewRate))
    }

    func run() async throws {
        if printConfig {
            print(DaemonConfigFragment.yaml(keyPrefix: keyPrefix), terminator: "")
            return
        }
        let clock = ContinuousClock()
        let generated = clock.now
        let corpus = try SimulatedCorpus.generate(settings)
        log("generated \(TextFormat.number(corpus.events.count)) events (\(TextFormat.number(corpus.deliveries.count)) deliveries) for \(TextFormat.number(customers)) customers in \(String(format: "%.1f", generated.duration(to: .now).inSeconds)) s")
        try SimulationFiles.write(corpus, to: out, keyPrefix: keyPrefix, includeEvents: writeCorpus)
        log("wrote \(out)/\(SimulationFiles.truthFile)" + (writeCorpus ? " and \(out)/\(SimulationFiles.eventsDirectory)/" : ""))
        guard https != nil || stream != nil else {
            if json { print(SimulateReport(corpus: corpus, transport: nil, target: nil, connections: 0, rate: nil, result: nil).json) }
            return
        }

        // Every sentAt moves from the end of the simulated period to now (docs/SIMULATE.md).
        let shift = Timestamp.now.millisecondsSinceEpoch - settings.end.millisecondsSinceEpoch
        let progress = SendProgress()
        let targetRate = rate > 0 ? rate : nil
        let result: SendResult
        let target: String
        var connectionCount = connections
        if let https {
            target = https
            let batches = try HTTPSBatchSender.batches(corpus, batchSize: batchSize, shift: shift, gzip: gzip)
            let sender = HTTPSBatchSender(address: https, caFile: ca, keyPrefix: keyPrefix, connections: connections, rate: targetRate, gzip: gzip)
            log("sending \(TextFormat.number(batches.count)) batches over HTTPS to \(https), \(connections) connections" + (targetRate.map { ", \(TextFormat.number(Int($0))) events/s" } ?? ""))
            result = try await withProgress(total: corpus.deliveries.count, progress) { try await sender.run(batches, progress: progress) }
        } else {
            let address = try StreamTarget(parsing: stream ?? "")
            target = address.description
            let tls = try StreamClientTLS.context(caFile: ca, certificateFile: nil, keyFile: nil)
            let lanes = try StreamSender.lanes(corpus, connections: connections, shift: shift)
            connectionCount = lanes.count
            let sender = StreamSender(target: address, tls: tls, keyPrefix: keyPrefix, rate: targetRate, windowBytes: window.bytes, chunkBytes: writeSize.bytes)
            log("sending over the TLS stream to \(address), \(lanes.count) connections" + (targetRate.map { ", \(TextFormat.number(Int($0))) events/s" } ?? ""))
            result = try await withProgress(total: corpus.deliveries.count, progress) { try await sender.run(lanes, progress: progress) }
        }
        let report = SimulateReport(
            corpus: corpus, transport: https != nil ? (gzip ? "https-gzip" : "https") : "stream", target: target, connections: connectionCount,
            rate: targetRate, result: result)
        print(json ? report.json : report.text)
        if result.failures > 0 || result.rejected > 0 { throw ExitCode(1) }
    }

    /// Runs `send` with the progress display beside it (unless --no-progress).
    private func withProgress(total: Int, _ progress: SendProgress, _ send: @Sendable () async throws -> SendResult) async throws -> SendResult {
        guard !noProgress else { return try await send() }
        let display = ProgressDisplay(total: total, progress: progress, interactive: ProgressDisplay.stderrIsTerminal)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await display.run() }
            defer { group.cancelAll() }
            return try await send()
        }
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("journeyctl: \(message)\n".utf8))
    }
}
