import JourneyCore
import NIOSSL

/// The server's TLS settings built from the configured PEM files (TLS 1.2 or newer only).
/// Loading fails with a `ConfigurationError` naming the key whose file is missing or unusable,
/// so `--check-config` catches it before a start does.
public enum TLSMaterial {
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
        if let caPath = files.clientCAPath {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
            } catch {
                throw .invalidValue(key: "tls.client_ca", message: "cannot load PEM certificates from \(caPath): \(error)")
            }
        }
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidValue(key: "tls.private_key", message: "the key does not fit the certificate or cannot be used: \(error)")
        }
        return configuration
    }
}
