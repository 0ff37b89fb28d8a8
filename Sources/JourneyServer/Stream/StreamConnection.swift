import JourneyCore
import JourneyStorage
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import X509

/// What every stream connection shares: the configuration in force, the engine, the dead-letter
/// log. Immutable and `Sendable`.
struct StreamIngest: Sendable {
    let live: LiveConfiguration
    let engine: IngestEngine
    let deadLetters: DeadLetterLog
    /// False while the engine recovers its state at start.
    let recovered: Readiness
    let metrics: DaemonMetrics
    /// Keeps floods of the same refusal or failure to one log line per interval.
    let repeats: RepeatLimiter
    let logger: Logger

    /// Chunks of lines a connection may have stored but not yet acknowledged; past it, reading
    /// waits (and TCP pushes back on the client).
    static let chunksInFlight = 16
}

/// Serves one accepted stream connection from its TLS handshake to its close: finds the source
/// (client certificate or `{"writeKey":"…"}` line), reads lines, stores valid events through the
/// engine in one hand-over per chunk read, and writes `{"ack":N}` once they are durable.
///
/// Runs as one child task of the listener, with one inner task writing the replies, so reading
/// never waits for an fsync; the window between them bounds what is read but not yet acknowledged.
/// It keeps the configuration in force when it was accepted (its source, limits) to its end.
struct StreamConnection {
    let ingest: StreamIngest
    let settings: LiveConfiguration.Settings
    let connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let handshake: EventLoopFuture<Void>

    private var logger: Logger { ingest.logger }

    func run() async {
        let peer = connection.channel.remoteAddress?.hostAndPort ?? "unknown"
        do {
            try await connection.executeThenClose { inbound, outbound in
                do {
                    try await handshake.get()
                } catch {
                    ingest.metrics.tlsHandshakeFailed(listener: .stream)
                    ingest.repeats.log(logger, .notice, "stream handshake failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                    return
                }
                ingest.metrics.streamConnectionOpened()
                defer { ingest.metrics.streamConnectionClosed() }
                let certificateSource: JourneydConfiguration.Source?
                do {
                    certificateSource = try await sourceFromCertificate()
                } catch let refusal as Refusal {
                    ingest.repeats.log(logger, .notice, "stream client refused", metadata: ["peer": "\(peer)", "error": "\(refusal.message)"])
                    var reply = ByteBuffer()
                    StreamReply.fatal(refusal.message, into: &reply)
                    try await outbound.write(reply)
                    return
                }
                let summary = await serve(inbound, outbound, source: certificateSource)
                if let refusal = summary.refusal {
                    ingest.repeats.log(logger, .notice, "stream client refused", metadata: ["peer": "\(peer)", "error": "\(refusal)"])
                    return
                }
                logger.info(
                    "stream connection closed",
                    metadata: [
                        "peer": "\(peer)", "source": "\(summary.source ?? "-")", "lines": "\(summary.lines)",
                        "rejected": "\(summary.rejected)", "end": "\(summary.end)",
                    ])
            }
        } catch {
            logger.debug("stream connection failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// Why a client may not send events.
    struct Refusal: Error {
        var message: String
    }

    /// The source a verified client certificate selects; nil when no certificate was presented.
    private func sourceFromCertificate() async throws(Refusal) -> JourneydConfiguration.Source? {
        let presented: NIOSSLCertificate?
        do {
            presented = try await connection.channel.nioSSL_peerCertificate().get()
        } catch {
            throw Refusal(message: "cannot read the client certificate: \(error)")
        }
        guard let presented else { return nil }
        let subject: ClientSubject
        do {
            let certificate = try Certificate(derEncoded: try presented.toDERBytes())
            guard let parsed = ClientSubject(certificate.subject.description) else {
                throw Refusal(message: "the client certificate's subject \"\(certificate.subject)\" cannot be read")
            }
            subject = parsed
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw Refusal(message: "cannot parse the client certificate: \(error)")
        }
        guard let source = settings.configuration.source(forClientSubject: subject) else {
            throw Refusal(message: "client certificate subject \(subject) is not the client_subject of any source")
        }
        return source
    }

    struct Summary: Sendable {
        var source: String?
        var lines = 0
        var rejected = 0
        var end = "closed by client"
        /// Why the client was refused: its first line named no valid identity.
        var refusal: String?
    }

    private func serve(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        source: JourneydConfiguration.Source?
    ) async -> Summary {
        let (settlements, pending) = AsyncStream<Settlement>.makeStream()
        let window = AsyncSlots(StreamIngest.chunksInFlight)
        let channel = connection.channel
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Self.acknowledge(settlements, outbound: outbound, window: window, channel: channel, metrics: ingest.metrics)
            }
            let reader = StreamLineReader(ingest: ingest, settings: settings, source: source)
            let summary = await cancelWhenGracefulShutdown {
                var reader = reader
                return await reader.read(inbound, settlements: pending, window: window)
            }
            pending.finish()
            await group.waitForAll()
            return summary
        }
    }

    /// Writes each settlement's error lines, waits until its events are durable, then writes the
    /// acknowledgement. On a WAL failure it tells the client where to resume and closes. When it
    /// stops (also when the client is gone) it closes the window, so reading stops too.
    private static func acknowledge(
        _ settlements: AsyncStream<Settlement>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, window: AsyncSlots,
        channel: any Channel, metrics: DaemonMetrics
    ) async {
        defer { window.close() }
        var acknowledged = 0
        for await settlement in settlements {
            var reply = settlement.errorLines
            var fatal = settlement.fatal
            var durable = true
            if let receipt = settlement.receipt {
                do {
                    try await receipt.waitDurable()
                } catch {
                    durable = false
                    fatal = "events could not be made durable (\(error)); lines after \(acknowledged) were not acknowledged, resend them"
                }
            }
            if durable, settlement.settledThrough > acknowledged {
                acknowledged = settlement.settledThrough
                StreamReply.ack(acknowledged, into: &reply)
            }
            if let fatal { StreamReply.fatal(fatal, into: &reply) }
            do {
                try await outbound.write(reply)
            } catch {
                return
            }
            window.release()
            if durable, settlement.receipt != nil { metrics.acknowledged(after: ContinuousClock.now - settlement.readAt, listener: .stream) }
            if fatal != nil {
                try? await channel.close()
                return
            }
        }
    }
}
