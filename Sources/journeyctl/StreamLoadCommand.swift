import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `journeyctl load --stream HOST:PORT --corpus FILE …`: a load generator for journeyd's TLS
/// NDJSON stream listener (or, with `--no-acks`, any TLS sink), measuring events/s, MB/s and
/// ack latency. docs/BENCHMARKS.md, "Stream load", describes how `scripts/stream-bench.sh` uses it.
///
/// Runs on a `MultiThreadedEventLoopGroup` with one thread per core; the command's own task only
/// loads the corpus, starts the connections and prints the result.
struct StreamLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Send an NDJSON corpus over the TLS stream listener as fast as it acknowledges, and measure it.",
        discussion: """
            The corpus (plain or gzip NDJSON, one event per line) is read into memory first and split into \
            --connections contiguous slices, one per connection. Each connection authenticates with --cert/--key \
            (mutual TLS) or sends {"writeKey":"KEY"} as its first line, writes its lines in large writes while at \
            most --window bytes are unacknowledged, and is done when the server's {"ack":N} reaches its line count. \
            The time runs from the first connect to the last connection's final ack. With --no-acks nothing is read \
            back: each connection is done once its last write completed and its TLS close finished (a baseline \
            against a plain TLS sink such as socat). Exits 1 naming the connection and the reason when a connection \
            cannot be made or its lines are not all settled. Write a corpus with journeybench --write-corpus FILE.
            """)

    @Option(name: .long, help: ArgumentHelp("The stream listener's address.", valueName: "host:port"))
    var stream: String

    @Option(name: .long, help: ArgumentHelp("NDJSON file of events, plain or gzip.", valueName: "file"))
    var corpus: String

    @Option(name: .long, help: "Parallel connections, each sending its own slice of the corpus.")
    var connections = 4

    @Option(name: .long, help: ArgumentHelp("CA certificate(s) to trust for the server (PEM); default: the system's roots.", valueName: "file"))
    var ca: String?

    @Option(name: .long, help: ArgumentHelp("Client certificate (PEM) for mutual TLS; needs --key.", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("The client certificate's private key (PEM).", valueName: "file"))
    var key: String?

    @Option(name: .customLong("write-key"), help: ArgumentHelp("Send {\"writeKey\":KEY} as each connection's first line (for a source without a client certificate).", valueName: "key"))
    var writeKey: String?

    @Option(name: .long, help: ArgumentHelp("Deal the corpus out to the connections in turn, in runs of this many lines, instead of one contiguous slice each: they then send from the same stretch of the corpus at about the same time, like parallel feeds of one live stream.", valueName: "lines"))
    var interleave: Int?

    @Option(name: .customLong("repeat"), help: "Send each connection's lines this many times over (later rounds repeat message ids: the daemon settles them as duplicates).")
    var repeatCount = 1

    @Flag(name: .customLong("no-acks"), help: "Do not wait for acks: write everything, close, and time that (for a plain TLS sink).")
    var noAcks = false

    @Option(name: .long, help: ArgumentHelp("Most bytes per connection written but not yet acknowledged.", valueName: "bytes"))
    var window = ByteSizeArgument(bytes: 16 << 20)

    @Option(name: .customLong("write-size"), help: ArgumentHelp("Bytes per write (whole lines, so a write may be a line shorter).", valueName: "bytes"))
    var writeSize = ByteSizeArgument(bytes: 128 << 10)

    @Option(name: .customLong("max-reconnects"), help: "Per connection: reconnect this often after the server dropped it having settled some lines, resending the lines past its last ack.")
    var maxReconnects = 3

    @Option(name: .customLong("stall-timeout"), help: ArgumentHelp("Fail a connection that sees no ack and no completed write for this long.", valueName: "seconds"))
    var stallTimeout = 30

    @Flag(name: .long, help: "Print the result as one JSON object (snake_case keys) instead of a table.")
    var json = false

    func validate() throws {
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard interleave.map({ $0 >= 1 }) ?? true else { throw ValidationError("--interleave must be at least 1 line") }
        guard window.bytes >= 1 else { throw ValidationError("--window must be at least one byte") }
        guard (1 << 10...16 << 20).contains(writeSize.bytes) else { throw ValidationError("--write-size must lie between 1KiB and 16MiB") }
        guard maxReconnects >= 0 else { throw ValidationError("--max-reconnects must not be negative") }
        guard stallTimeout >= 1 else { throw ValidationError("--stall-timeout must be at least 1 second") }
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
    }

    func run() async throws {
        let target = try StreamTarget(parsing: stream)
        let tls = try StreamClientTLS.context(caFile: ca, certificateFile: cert, keyFile: key)
        let loadStart = NIODeadline.now()
        let corpus = try StreamCorpus.load(path: self.corpus)
        guard corpus.lineCount >= connections else {
            throw StreamLoadError.corpusTooSmall(path: self.corpus, lines: corpus.lineCount, connections: connections)
        }
        if let interleave, (corpus.lineCount + interleave - 1) / interleave < connections {
            throw StreamLoadError.tooFewRuns(path: self.corpus, lines: corpus.lineCount, runLines: interleave, connections: connections)
        }
        let loadSeconds = Double((NIODeadline.now() - loadStart).nanoseconds) / 1e9
        log(String(format: "corpus: %@ lines, %.1f MB, read in %.1f s", TextFormat.number(corpus.lineCount), Double(corpus.byteCount) / 1e6, loadSeconds))

        let settings = StreamLoadSettings(
            waitsForAcks: !noAcks, windowBytes: window.bytes, chunkBytes: writeSize.bytes, authLine: writeKey.map(Self.authLine),
            stallTimeout: .seconds(Int64(stallTimeout)), maxReconnects: maxReconnects)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let result: StreamLoadRunner.Result
        do {
            result = try await StreamLoadRunner.run(
                corpus: corpus, connections: connections, interleave: interleave, repeatCount: repeatCount, target: target, tls: tls,
                settings: settings, group: group)
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        let report = StreamLoadReport(result, target: target, settings: settings)
        print(json ? report.json : report.text)
    }

    /// `{"writeKey":"KEY"}\n`, the key JSON-escaped.
    static func authLine(writeKey: String) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        // A [String: String] always encodes.
        let data = (try? encoder.encode(["writeKey": writeKey])) ?? Data()
        var buffer = ByteBuffer(bytes: data)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("journeyctl: \(message)\n".utf8))
    }
}
