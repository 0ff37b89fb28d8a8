import NIOSSL
import Synchronization

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
