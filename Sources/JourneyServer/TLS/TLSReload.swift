import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The stream listener's TLS context (certificate, key, client CA), replaced whole on reload.
/// Each new connection takes the context current when it is accepted; open connections keep
/// the one they started with. Shared by the accepting event loops and the reload service.
final class ReloadableTLSContext: Sendable {
    private let current: Mutex<NIOSSLContext>

    init(_ context: NIOSSLContext) {
        current = Mutex(context)
    }

    var context: NIOSSLContext { current.withLock { $0 } }

    func replace(with context: NIOSSLContext) {
        current.withLock { $0 = context }
    }
}

/// The certificate chain and key the HTTPS (and TLS admin) listeners present, replaced whole on
/// reload. Hummingbird builds those listeners' TLS context once; `installed(in:)` adds a callback
/// that hands each new handshake the current certificate instead. Shared across event loops.
final class ReloadableServerCertificate: Sendable {
    private let current: Mutex<NIOSSLContextConfigurationOverride>

    init(_ configuration: TLSConfiguration) {
        current = Mutex(Self.override(from: configuration))
    }

    func replace(with configuration: TLSConfiguration) {
        let override = Self.override(from: configuration)
        current.withLock { $0 = override }
    }

    /// `configuration` with every handshake taking the certificate current at that moment.
    func installed(in configuration: TLSConfiguration) -> TLSConfiguration {
        var configuration = configuration
        configuration.sslContextCallback = { _, promise in
            promise.succeed(self.current.withLock { $0 })
        }
        return configuration
    }

    private static func override(from configuration: TLSConfiguration) -> NIOSSLContextConfigurationOverride {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = configuration.certificateChain
        override.privateKey = configuration.privateKey
        return override
    }
}

/// Owns SIGHUP: on each one, reloads the TLS files the configuration names and, if they all load
/// and fit together, puts them in force for new connections on every listener (the stream's
/// client CA too). A broken certificate, key or CA is refused with a log line and the previous
/// material stays in force everywhere.
struct TLSReloadService: Service {
    let configuration: JourneydConfiguration
    let stream: ReloadableTLSContext
    let server: ReloadableServerCertificate
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                reload()
            }
        }
    }

    /// Wrapped in `RELOADING=1` … `READY=1` for systemd (`READY=1` also when refused: the
    /// daemon goes on serving with the previous material).
    func reload() {
        notifier.send(["RELOADING=1", SystemdNotifier.monotonicMicroseconds, "STATUS=reloading TLS material"])
        defer { notifier.send(["READY=1", "STATUS=ready"]) }
        do {
            let streamTLS = try TLSMaterial.streamConfiguration(configuration)
            let streamContext = try NIOSSLContext(configuration: streamTLS)
            stream.replace(with: streamContext)
            server.replace(with: streamTLS)
            logger.info("tls reloaded", metadata: ["certificate": "\(configuration.tls.certificatePath)"])
        } catch {
            logger.error("tls reload refused; the previous certificates stay in force", metadata: ["error": "\(error)"])
        }
    }
}
