import NIOSSL

/// The TLS client context of `journeyctl load`: TLS 1.2 or later, the server verified against
/// `--ca` (or the system's roots), and the client certificate of `--cert`/`--key` if given.
/// Built once, before any connection; `NIOSSLContext` is shared by all of them.
enum StreamClientTLS {
    static func context(caFile: String?, certificateFile: String?, keyFile: String?) throws(StreamLoadError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            configuration.trustRoots = .certificates(try certificates(caFile))
        }
        if let certificateFile, let keyFile {
            configuration.certificateChain = try certificates(certificateFile).map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw .tlsMaterial(path: keyFile, reason: "not a PEM private key (\(error))")
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tlsMaterial(path: certificateFile ?? caFile ?? "(system trust roots)", reason: String(describing: error))
        }
    }

    private static func certificates(_ path: String) throws(StreamLoadError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .tlsMaterial(path: path, reason: "not readable as PEM certificates (\(error))")
        }
        guard !certificates.isEmpty else { throw .tlsMaterial(path: path, reason: "holds no PEM certificate") }
        return certificates
    }
}
