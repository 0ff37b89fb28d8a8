import JourneyCore
import JourneyStorage
import NIOCore

/// Reads one stream connection's bytes as lines and stores their events: the optional
/// `{"writeKey":"…"}` first line picks the source of a client without a certificate; every other
/// line is an event, validated like an item of `/v1/batch`. The valid events of each chunk read
/// go to the engine in one hand-over; rejected lines get an error line and a dead letter.
///
/// A value owned by the connection's reading task; it hands each processed chunk to the
/// acknowledging task as a `Settlement`.
struct StreamLineReader: Sendable {
    let ingest: StreamIngest
    /// The configuration in force when the connection was accepted.
    let settings: LiveConfiguration.Settings
    private var source: JourneydConfiguration.Source?
    private var splitter: LineSplitter
    private var awaitingKeyLine: Bool
    private(set) var summary = StreamConnection.Summary()

    init(ingest: StreamIngest, settings: LiveConfiguration.Settings, source: JourneydConfiguration.Source?) {
        self.ingest = ingest
        self.settings = settings
        self.source = source
        self.splitter = LineSplitter(maxLineBytes: settings.configuration.limits.lineBytes)
        self.awaitingKeyLine = source == nil
        summary.source = source?.name
    }

    /// What one chunk read from the socket turned into.
    private struct Chunk {
        var events = IngestBatch()
        /// The line number of each event.
        var eventLines: [Int] = []
        var errorLines = ByteBuffer()
        var deadLetters: [DeadLetter] = []
        var fatal: String?

        /// The events, for handing over to the engine as their only holder.
        mutating func takeEvents() -> IngestBatch {
            var taken = IngestBatch()
            swap(&taken, &events)
            return taken
        }
    }

    /// Reads until the client closes, the connection fails, the task is cancelled (graceful
    /// shutdown) or the client cannot go on (`fatal`, sent after the last acknowledgement).
    mutating func read(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, settlements: AsyncStream<Settlement>.Continuation, window: AsyncSlots
    ) async -> StreamConnection.Summary {
        guard ingest.recovered.isReady else {
            try? await window.acquire()
            summary.end = "daemon starting"
            settlements.yield(Settlement(settledThrough: 0, fatal: IngestEngine.Unavailable.starting.description))
            return summary
        }
        var unstoredLines = 0
        do {
            for try await buffer in inbound {
                do {
                    try await window.acquire()
                } catch {
                    // Replies can no longer be written (the client is gone): this chunk is not
                    // stored, only split, so that the end names what was lost with it.
                    unstoredLines = discard(buffer)
                    break
                }
                let settledBefore = summary.lines
                let readAt = ContinuousClock.now
                var chunk = process(buffer)
                await keepRejected(&chunk)
                var receipt: IngestEngine.Receipt?
                let eventCount = chunk.events.count
                if eventCount > 0 {
                    do {
                        let events = chunk.takeEvents()
                        receipt = try await ingest.engine.ingest(consume events)
                        if let suppressed = receipt?.suppressed, !suppressed.isEmpty {
                            await refuseSuppressed(suppressed, in: &chunk)
                        }
                    } catch {
                        summary.end = "events not stored"
                        settlements.yield(
                            Settlement(
                                settledThrough: settledBefore,
                                fatal: "events cannot be stored now (\(error)); lines after \(settledBefore) were not stored, resend them"))
                        return summary
                    }
                }
                if let receipt, let source {
                    ingest.metrics.eventsReceived(eventCount - receipt.suppressed.count, source: source.name, listener: .stream)
                    ingest.metrics.duplicates(receipt.duplicates, source: source.name, listener: .stream)
                }
                settlements.yield(
                    Settlement(
                        errorLines: chunk.errorLines, settledThrough: summary.lines, receipt: receipt, fatal: chunk.fatal, readAt: readAt))
                if let fatal = chunk.fatal {
                    summary.end = "refused"
                    summary.refusal = fatal
                    return summary
                }
            }
        } catch {
            summary.end = "connection error: \(error)"
        }
        if Task.isCancelled { summary.end = "daemon shutting down" }
        if unstoredLines > 0 {
            ingest.logger.notice(
                "stream connection closed before its last lines could be acknowledged; they were not stored",
                metadata: ["source": "\(source?.name ?? "-")", "unstored_lines": "\(unstoredLines)", "lines": "\(summary.lines)"])
        }
        if splitter.pendingBytes > 0 {
            ingest.logger.notice(
                "stream connection ended inside a line; the partial line was not stored",
                metadata: ["source": "\(source?.name ?? "-")", "bytes": "\(splitter.pendingBytes)", "lines": "\(summary.lines)"])
        }
        return summary
    }

    /// Splits `buffer` without storing anything, and returns how many lines it completed (a
    /// partial line at its end stays in `splitter`, as after any chunk).
    private mutating func discard(_ buffer: ByteBuffer) -> Int {
        var lineBytes: [UInt8] = []
        var count = 0
        buffer.withUnsafeReadableBytes { bytes in
            splitter.split(bytes, into: &lineBytes) { _ in count += 1 }
        }
        return count
    }

    private mutating func process(_ buffer: ByteBuffer) -> Chunk {
        // The chunk's complete lines, back to back in one buffer and parsed onto one tape.
        var lineBytes: [UInt8] = []
        lineBytes.reserveCapacity(splitter.heldBytes + buffer.readableBytes)
        var lines: [LineSplitter.Line] = []
        buffer.withUnsafeReadableBytes { bytes in
            splitter.split(bytes, into: &lineBytes) { lines.append($0) }
        }
        // One entry per line, so that line `n` is `parsed[n]`; an over-long line (not kept) is
        // an empty range, whose failure is never read.
        let parsed = JSONLines(bytes: lineBytes, lines: lines.map { line in
            if case .complete(let range) = line { range } else { 0..<0 }
        })
        var chunk = Chunk()
        chunk.events.reserveCapacity(inputBytes: buffer.readableBytes)
        let receivedAt = Timestamp.now
        // What the connection adds to each event, made once per chunk (once its source is known).
        var envelope: EventNormaliser.Envelope?
        for (index, line) in lines.enumerated() {
            switch line {
            case .tooLong(let bytes):
                summary.lines += 1
                reject(
                    "line is \(bytes) bytes long, over the limit of \(splitter.maxLineBytes) bytes (limits.line_bytes); it was skipped",
                    raw: nil, into: &chunk, receivedAt: receivedAt)
            case .complete where awaitingKeyLine:
                awaitingKeyLine = false
                if let refusal = authenticate(parsed[index]) {
                    chunk.fatal = refusal
                    return chunk
                }
            case .complete(let range):
                summary.lines += 1
                if lineBytes[range].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                if envelope == nil, let source {
                    envelope = EventNormaliser.Envelope(source: SourceInfo(name: source.name, channel: source.channel), receivedAt: receivedAt)
                }
                guard let envelope else { continue }
                store(parsed[index], raw: lineBytes[range], into: &chunk, envelope: envelope)
            }
        }
        return chunk
    }

    /// Stores the event on one line; `raw` is the line, for a dead letter if it is refused.
    /// `mutating` although it changes nothing of the reader: called from `process(_:)` as a
    /// non-mutating method, it was handed a copy of the whole reader for every line, retaining
    /// and releasing each reference the reader holds (seen in the disassembly).
    private mutating func store(_ line: Result<JSONValue, JSONParseError>, raw: ArraySlice<UInt8>, into chunk: inout Chunk, envelope: EventNormaliser.Envelope) {
        let receivedAt = envelope.receivedAt
        let root: JSONValue
        switch line {
        case .success(let value):
            root = value
        case .failure(let error):
            reject("line is not valid JSON: \(error.description)", raw: Array(raw), into: &chunk, receivedAt: receivedAt)
            return
        }
        guard root.kind == .object else {
            reject("a line must hold one JSON object: an event", raw: Array(raw), into: &chunk, receivedAt: receivedAt)
            return
        }
        do {
            chunk.events.append(try settings.normaliser.normalise(root, envelope: envelope))
            chunk.eventLines.append(summary.lines)
        } catch {
            reject(error.message, raw: Array(raw), into: &chunk, receivedAt: receivedAt)
        }
    }

    /// An over-long line has no `raw` bytes (they were not kept): it gets its error line, no dead letter.
    private func reject(_ message: String, raw: [UInt8]?, into chunk: inout Chunk, receivedAt: Timestamp) {
        StreamReply.rejected(line: summary.lines, error: message, into: &chunk.errorLines)
        if let raw {
            chunk.deadLetters.append(DeadLetter(receivedAt: receivedAt, source: source?.name ?? "-", reason: message, event: raw))
        }
    }

    /// Error lines and dead letters (without the event) for events the engine refused because an
    /// erasure suppressed an identifier they carry.
    private mutating func refuseSuppressed(_ indexes: [Int], in chunk: inout Chunk) async {
        let receivedAt = Timestamp.now
        for index in indexes {
            StreamReply.rejected(line: chunk.eventLines[index], error: DeadLetter.suppressedReason, into: &chunk.errorLines)
        }
        summary.rejected += indexes.count
        ingest.metrics.eventsRejected(indexes.count, source: source?.name ?? "-", listener: .stream)
        await ingest.engine.countRejected(indexes.count)
        let letters = indexes.map { _ in DeadLetter.suppressed(receivedAt: receivedAt, source: source?.name ?? "-") }
        do {
            try await ingest.deadLetters.append(letters)
        } catch {
            ingest.repeats.log(ingest.logger, .error, "dead-letter write failed", metadata: ["error": "\(error)", "items": "\(letters.count)"])
        }
    }

    private mutating func keepRejected(_ chunk: inout Chunk) async {
        let rejected = chunk.errorLines.readableBytes > 0 ? chunk.errorLines.readableBytesView.count(where: { $0 == 0x0A }) : 0
        guard rejected > 0 else { return }
        summary.rejected += rejected
        ingest.metrics.eventsRejected(rejected, source: source?.name ?? "-", listener: .stream)
        await ingest.engine.countRejected(rejected)
        guard !chunk.deadLetters.isEmpty else { return }
        do {
            try await ingest.deadLetters.append(chunk.deadLetters)
        } catch {
            ingest.repeats.log(ingest.logger, .error, "dead-letter write failed", metadata: ["error": "\(error)", "items": "\(chunk.deadLetters.count)"])
        }
    }

    /// Takes the first line of a client without a certificate as `{"writeKey":"…"}`; returns why
    /// the client is refused, or nil once the source is known.
    private mutating func authenticate(_ line: Result<JSONValue, JSONParseError>) -> String? {
        guard case .success(let root) = line, let key = root["writeKey"]?.string else {
            return "no client identity: present a client certificate signed by the configured client CA, or send {\"writeKey\":\"…\"} as the first line"
        }
        guard let keySource = settings.configuration.source(forWriteKey: key) else {
            return "unknown write key"
        }
        guard keySource.streamWriteKey else {
            return "source \(keySource.name) does not take its write key on the stream (stream_write_key is off); present a client certificate"
        }
        source = keySource
        summary.source = keySource.name
        return nil
    }
}

/// A chunk of lines read, processed and stored, waiting to be acknowledged. Each holds one slot
/// of the connection's in-flight window until its acknowledgement is written.
struct Settlement: Sendable {
    /// Error lines for the chunk's rejected lines, already encoded.
    var errorLines = ByteBuffer()
    /// Cumulative event lines settled once this chunk is durable.
    var settledThrough: Int
    /// The WAL position the chunk's events must reach before the acknowledgement.
    var receipt: IngestEngine.Receipt?
    /// Written after the acknowledgement; the connection closes after it.
    var fatal: String?
    /// When the chunk was read (for the acknowledgement latency).
    var readAt = ContinuousClock.now
}
