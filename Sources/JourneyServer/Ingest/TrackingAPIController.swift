import Hummingbird
import JourneyCore
import JourneyStorage
import Logging
import NIOCore

/// The Segment-compatible tracking API: `POST /v1/batch` and the six single calls.
///
/// Immutable and `Sendable`; each request runs on its own task. Reading, gunzip, JSON parsing,
/// validation and encoding the WAL records happen here, in parallel across connections; the valid
/// events of one request go to the `IngestEngine` in a single hand-over (`IngestBatch`), and the
/// invalid ones to the dead-letter log. Each request reads the configuration in force (sources,
/// limits) once, when it starts.
struct TrackingAPIController: Sendable {
    let live: LiveConfiguration
    let engine: IngestEngine
    let deadLetters: DeadLetterLog
    let admission: AdmissionGate
    /// False while the engine recovers its state at start.
    let recovered: Readiness
    let metrics: DaemonMetrics
    /// Keeps floods of the same refusal or failure to one log line per interval.
    let repeats: RepeatLimiter
    let logger: Logger

    init(
        live: LiveConfiguration, engine: IngestEngine, deadLetters: DeadLetterLog, recovered: Readiness, metrics: DaemonMetrics,
        repeats: RepeatLimiter, logger: Logger
    ) {
        self.live = live
        self.engine = engine
        self.deadLetters = deadLetters
        self.admission = AdmissionGate()
        self.recovered = recovered
        self.metrics = metrics
        self.repeats = repeats
        self.logger = logger
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/batch") { request, _ in await self.handle(request, call: nil) }
        for type in EventType.allCases {
            router.post("/v1/\(type.rawValue)") { request, _ in await self.handle(request, call: type) }
        }
    }

    /// A request refused whole.
    private struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    /// - Parameter call: the single call's type, or nil for `/v1/batch`.
    func handle(_ request: Request, call: EventType?) async -> Response {
        guard recovered.isReady else {
            return IngestResponse.refused(
                .serviceUnavailable, IngestEngine.Unavailable.starting.description,
                headers: [.retryAfter: IngestResponse.retryAfterSeconds])
        }
        let settings = live.current
        let limit = settings.configuration.limits.maxPendingRequests
        guard admission.tryEnter(limit: limit) else {
            return IngestResponse.refused(
                .serviceUnavailable, "journeyd is at its limit of \(limit) requests in progress; retry shortly",
                headers: [.retryAfter: IngestResponse.retryAfterSeconds])
        }
        defer { admission.leave() }
        do {
            return try await accept(request, call: call, settings: settings)
        } catch {
            repeats.log(
                logger, .notice, "request refused",
                metadata: ["path": "\(request.uri.path)", "status": "\(error.status.code)", "error": "\(error.message)"])
            return IngestResponse.refused(error.status, error.message)
        }
    }

    private func accept(_ request: Request, call: EventType?, settings: LiveConfiguration.Settings) async throws(Refusal) -> Response {
        let started = ContinuousClock.now
        let receivedAt = Timestamp.now
        let limits = settings.configuration.limits
        let authenticator = WriteKeyAuthenticator(configuration: settings.configuration)
        let headerKey: String?
        do {
            headerKey = try WriteKeyAuthenticator.headerWriteKey(request)
            if let headerKey { _ = try authenticator.source(forKey: headerKey) }
        } catch {
            throw Refusal(status: .unauthorized, message: error.message)
        }
        let document = try await parsedBody(request, limit: limits.batchBytes)
        let root = document.root
        guard root.kind == .object else { throw Refusal(status: .badRequest, message: "body must be a JSON object") }
        let source: JourneydConfiguration.Source
        do {
            source = try authenticator.source(forKey: headerKey ?? root["writeKey"]?.string)
        } catch {
            throw Refusal(status: .unauthorized, message: error.message)
        }
        var envelope = EventNormaliser.Envelope(
            source: SourceInfo(name: source.name, channel: source.channel), receivedAt: receivedAt, impliedType: call)
        let items: [JSONValue]
        if call == nil {
            guard let batch = root["batch"], batch.kind == .array else {
                throw Refusal(status: .badRequest, message: "batch: expected an array of events")
            }
            guard batch.count <= limits.batchEvents else {
                throw Refusal(
                    status: .contentTooLarge,
                    message: "batch has \(batch.count) events, over the limit of \(limits.batchEvents)")
            }
            items = Array(batch.elements)
            if let context = root["context"], context.kind == .object { envelope.batchContext = context }
            if let sentAt = root["sentAt"], !sentAt.isNull {
                guard let text = sentAt.string, let parsed = Timestamp(rfc3339: text) else {
                    throw Refusal(status: .badRequest, message: "sentAt: expected an ISO 8601 / RFC 3339 date-time string")
                }
                envelope.batchSentAt = parsed
            }
        } else {
            items = [root]
        }
        return await store(items, envelope: envelope, normaliser: settings.normaliser, single: call != nil, started: started)
    }

    private func parsedBody(_ request: Request, limit: Int) async throws(Refusal) -> JSONDocument {
        var bytes: [UInt8]
        do {
            let buffer = try await request.body.collect(upTo: limit)
            bytes = Array(buffer: buffer)
        } catch is NIOTooManyBytesError {
            throw Refusal(status: .contentTooLarge, message: "body is larger than the limit of \(limit) bytes")
        } catch {
            throw Refusal(status: .badRequest, message: "could not read the body: \(error)")
        }
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity":
            break
        case "gzip", "x-gzip":
            do {
                bytes = try Gzip.decompress(bytes, maxOutputBytes: limit)
            } catch {
                if case .outputTooLarge = error {
                    throw Refusal(status: .contentTooLarge, message: error.description)
                }
                throw Refusal(status: .badRequest, message: error.description)
            }
        case let other?:
            throw Refusal(status: .badRequest, message: "Content-Encoding \(other) is not supported (use gzip or none)")
        }
        do {
            return try JSONDocument(bytes: bytes)
        } catch {
            throw Refusal(status: .badRequest, message: "body is not valid JSON: \(error.description)")
        }
    }

    private func store(
        _ items: [JSONValue], envelope: EventNormaliser.Envelope, normaliser: EventNormaliser, single: Bool, started: ContinuousClock.Instant
    ) async -> Response {
        var events = IngestBatch()
        events.reserveCapacity(inputBytes: items.reduce(0) { $0 + $1.rawBytes.count })
        var itemIndexes: [Int] = []
        itemIndexes.reserveCapacity(items.count)
        var rejected: [IngestResponse.Rejection] = []
        var letters: [DeadLetter] = []
        for (index, item) in items.enumerated() {
            do {
                events.append(try normaliser.normalise(item, envelope: envelope))
                itemIndexes.append(index)
            } catch {
                rejected.append(.init(index: index, error: error.message))
                letters.append(
                    DeadLetter(receivedAt: envelope.receivedAt, source: envelope.source.name, reason: error.message, event: Array(item.rawBytes)))
            }
        }
        var duplicates = 0
        let valid = events.count
        var accepted = valid
        if valid > 0 {
            do {
                let receipt = try await engine.ingest(consume events)
                for index in receipt.suppressed {
                    rejected.append(.init(index: itemIndexes[index], error: DeadLetter.suppressedReason))
                    letters.append(.suppressed(receivedAt: envelope.receivedAt, source: envelope.source.name))
                }
                rejected.sort { $0.index < $1.index }
                accepted -= receipt.suppressed.count
                try await receipt.waitDurable()
                duplicates = receipt.duplicates
                metrics.eventsReceived(accepted, source: envelope.source.name, listener: .http)
                metrics.duplicates(duplicates, source: envelope.source.name, listener: .http)
                metrics.acknowledged(after: ContinuousClock.now - started, listener: .http)
            } catch {
                repeats.log(logger, .warning, "events not accepted", metadata: ["error": "\(error)", "events": "\(valid)"])
                return IngestResponse.refused(
                    .serviceUnavailable, "\(error); nothing from this request was acknowledged, send it again",
                    headers: [.retryAfter: IngestResponse.retryAfterSeconds])
            }
        }
        if !letters.isEmpty {
            metrics.eventsRejected(letters.count, source: envelope.source.name, listener: .http)
            await engine.countRejected(letters.count)
            do {
                try await deadLetters.append(letters)
            } catch {
                repeats.log(logger, .error, "dead-letter write failed", metadata: ["error": "\(error)", "items": "\(letters.count)"])
            }
        }
        if single, let rejection = rejected.first {
            return IngestResponse.refused(.badRequest, rejection.error)
        }
        return IngestResponse.accepted(accepted: accepted, duplicates: duplicates, rejected: rejected)
    }
}
