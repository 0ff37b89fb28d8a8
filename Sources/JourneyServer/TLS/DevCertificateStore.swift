import Foundation
import X509

/// Ensures a dev server certificate exists at `<directory>/server.crt` + `server.key` (the no-config local start).
///
/// - Both files present, parseable, matching and not expired: reused as they are (`created == false`).
/// - Either file missing, or the pair expired / expiring within `renewBefore`: a new self-signed pair
///   (``CertificateFactory/selfSignedServer(commonName:extraDNSNames:validFor:)``) is written (`created == true`).
/// - Both present but unreadable, unparseable or not belonging together: an error saying so; files this
///   store did not make are never replaced silently.
public struct DevCertificateStore: Sendable {
    public var directory: String
    public var commonName: String
    public var extraDNSNames: [String]
    /// A pair expiring within this interval is replaced. Default: one day.
    public var renewBefore: TimeInterval

    public var certificatePath: String { Self.join(directory, "server.crt") }
    public var privateKeyPath: String { Self.join(directory, "server.key") }

    public init(
        directory: String,
        commonName: String = "journeyd dev",
        extraDNSNames: [String] = [],
        renewBefore: TimeInterval = 24 * 60 * 60
    ) {
        self.directory = directory
        self.commonName = commonName
        self.extraDNSNames = extraDNSNames
        self.renewBefore = renewBefore
    }

    public func ensure() throws -> (certificatePath: String, privateKeyPath: String, fingerprint: String, created: Bool) {
        let certificatePath = self.certificatePath
        let privateKeyPath = self.privateKeyPath

        if PEMFileIO.fileExists(certificatePath) && PEMFileIO.fileExists(privateKeyPath) {
            let existing = try PEMCredential.read(certificateFrom: certificatePath, privateKeyFrom: privateKeyPath)
            do {
                let now = Date()
                let certificate = try existing.validate(at: now)
                if certificate.notValidAfter > now.addingTimeInterval(renewBefore) {
                    return (
                        certificatePath, privateKeyPath,
                        try CertificateFactory.fingerprint(certificate: certificate),
                        false
                    )
                }
                // Expiring soon: renew below.
            } catch CertificateFactoryError.expired {
                // Ours to renew: an expired dev certificate is of no use to anyone.
            } catch let error as CertificateFactoryError {
                throw CertificateFactoryError.unusableExistingCredential(
                    certificatePath: certificatePath,
                    privateKeyPath: privateKeyPath,
                    reason: error.description
                )
            }
        }

        let credential = try CertificateFactory.selfSignedServer(commonName: commonName, extraDNSNames: extraDNSNames)
        try credential.write(certificateTo: certificatePath, privateKeyTo: privateKeyPath)
        return (certificatePath, privateKeyPath, try CertificateFactory.fingerprint(certificatePEM: credential.certificatePEM), true)
    }

    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
