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

/// Owns SIGHUP: on each one, reloads the TLS files the configuration names and, if they load and
/// fit together, puts them in force for new stream connections. A broken certificate, key or CA
/// is refused with a log line and the previous context stays in force.
struct TLSReloadService: Service {
    let configuration: JourneydConfiguration
    let stream: ReloadableTLSContext
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                reload()
            }
        }
    }

    func reload() {
        do {
            let tls = try TLSMaterial.streamConfiguration(configuration)
            stream.replace(with: try NIOSSLContext(configuration: tls))
            logger.info("tls reloaded", metadata: ["listener": "stream", "certificate": "\(configuration.tls.certificatePath)"])
        } catch {
            logger.error(
                "tls reload refused; the previous certificates stay in force",
                metadata: ["listener": "stream", "error": "\(error)"])
        }
    }
}
