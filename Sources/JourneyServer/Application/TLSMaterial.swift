import JourneyCore
import NIOSSL

/// The listeners' TLS settings built from the configured PEM files (TLS 1.2 or newer only).
/// Loading fails with a `ConfigurationError` naming the key whose file is missing or unusable,
/// so `--check-config` catches it before a start does, and a reload keeps the old settings.
public enum TLSMaterial {
    /// For the HTTPS tracking API and the admin listener: no client certificates.
    public static func serverConfiguration(_ files: JourneydConfiguration.TLSFiles) throws(ConfigurationError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        } catch {
            throw .invalidValue(key: "tls.certificate", message: "cannot load a PEM certificate from \(files.certificatePath): \(error)")
        }
        guard !chain.isEmpty else {
            throw .invalidValue(key: "tls.certificate", message: "\(files.certificatePath) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
        } catch {
            throw .invalidValue(key: "tls.private_key", message: "cannot load a PEM private key from \(files.privateKeyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        try checkUsable(configuration, key: "tls.private_key", problem: "the key does not fit the certificate or cannot be used")
        return configuration
    }

    /// For the stream listener: the server settings plus client certificates verified against
    /// `tls.client_ca` (when configured). A client certificate is required unless a source accepts
    /// a write key on the stream; a certificate that is presented must always verify (issuer, dates).
    public static func streamConfiguration(_ configuration: JourneydConfiguration) throws(ConfigurationError) -> TLSConfiguration {
        var tls = try serverConfiguration(configuration.tls)
        guard let caPath = configuration.tls.clientCAPath else { return tls }
        let authorities: [NIOSSLCertificate]
        do {
            authorities = try NIOSSLCertificate.fromPEMFile(caPath)
        } catch {
            throw .invalidValue(key: "tls.client_ca", message: "cannot load PEM certificates from \(caPath): \(error)")
        }
        guard !authorities.isEmpty else {
            throw .invalidValue(key: "tls.client_ca", message: "\(caPath) holds no PEM certificate")
        }
        tls.trustRoots = .certificates(authorities)
        tls.sendCANameList = true
        tls.certificateVerification =
            configuration.sources.contains(where: \.streamWriteKey) ? .optionalVerification : .noHostnameVerification
        try checkUsable(tls, key: "tls.client_ca", problem: "the client CA cannot be used")
        return tls
    }

    private static func checkUsable(_ configuration: TLSConfiguration, key: String, problem: String) throws(ConfigurationError) {
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidValue(key: key, message: "\(problem): \(error)")
        }
    }
}
