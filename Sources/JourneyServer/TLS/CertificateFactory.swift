import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a leaf certificate is for.
public enum CertificateUsage: Sendable, Hashable {
    /// TLS server: serverAuth extended key usage and subject alternative names.
    case server
    /// TLS client (mutual TLS): clientAuth extended key usage.
    case client
}

/// Errors from certificate generation, loading and writing. Every message names what went wrong and,
/// where there is one, the file involved.
public enum CertificateFactoryError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    case invalidCertificatePEM(reason: String)
    case invalidPrivateKeyPEM(reason: String)
    case keyDoesNotMatchCertificate
    case issuerIsNotCertificateAuthority(subject: String)
    case invalidValidityPeriod(notBefore: Date, notAfter: Date)
    case expired(notAfter: Date)
    case notYetValid(notBefore: Date)
    case invalidName(String, reason: String)
    case generationFailed(reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case unusableExistingCredential(certificatePath: String, privateKeyPath: String, reason: String)

    public var description: String {
        switch self {
        case .invalidCertificatePEM(let reason):
            return "not a valid PEM certificate (expected '-----BEGIN CERTIFICATE-----'): \(reason)"
        case .invalidPrivateKeyPEM(let reason):
            return "not a valid PEM private key (expected '-----BEGIN PRIVATE KEY-----' or 'EC PRIVATE KEY'): \(reason)"
        case .keyDoesNotMatchCertificate:
            return "the private key does not belong to the certificate (their public keys differ)"
        case .issuerIsNotCertificateAuthority(let subject):
            return "the issuer certificate '\(subject)' is not a certificate authority (no basicConstraints CA:TRUE); "
                + "issue from a CA made with CertificateFactory.certificateAuthority or `journeyctl dev-certs`"
        case .invalidValidityPeriod(let notBefore, let notAfter):
            return "invalid validity period: notAfter \(Self.format(notAfter)) is not after notBefore \(Self.format(notBefore))"
        case .expired(let notAfter):
            return "the certificate expired at \(Self.format(notAfter))"
        case .notYetValid(let notBefore):
            return "the certificate is not valid until \(Self.format(notBefore))"
        case .invalidName(let name, let reason):
            return "invalid name '\(name)': \(reason)"
        case .generationFailed(let reason):
            return "could not generate the certificate: \(reason)"
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create directory \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .cannotRead(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unusableExistingCredential(let certificatePath, let privateKeyPath, let reason):
            return "existing \(certificatePath) / \(privateKeyPath) cannot be used (\(reason)); "
                + "remove both files to have a new pair generated"
        }
    }

    public var errorDescription: String? { description }

    /// A library error as a short sentence: swift-asn1 appends the source location ("… PEMDocument.swift:140").
    static func reason(for error: any Error) -> String {
        var text = String(describing: error)
        if let range = text.range(of: #"\s+\S+\.swift:\d+$"#, options: .regularExpression) {
            text.removeSubrange(range)
        }
        if text.hasPrefix("ASN1Error."), let dot = text.firstIndex(of: ":") {
            text = text[text.index(after: dot)...].trimmingCharacters(in: .whitespaces)
        }
        return text
    }

    private static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// Builds P-256 ECDSA certificates with swift-certificates: dev defaults, tests and `journeyctl dev-certs`.
public enum CertificateFactory {
    /// The SANs every server certificate carries.
    public static let defaultServerNames = ["localhost", "127.0.0.1", "::1"]

    /// 825 days: the longest leaf lifetime Apple platforms accept for TLS server certificates.
    public static let defaultLeafLifetime: TimeInterval = 825 * 24 * 60 * 60
    /// Ten years for certificate authorities.
    public static let defaultAuthorityLifetime: TimeInterval = 3650 * 24 * 60 * 60
    /// notBefore is back-dated by an hour so small clock differences don't make fresh certificates "not yet valid".
    public static let backdate: TimeInterval = 60 * 60

    /// Self-signed server certificate (also usable as its own CA: clients can put it in their trust
    /// store as is) for the no-config dev start. SANs: DNS localhost + IP 127.0.0.1 + IP ::1 + any
    /// extra names given (an extra name that parses as an IP address becomes an IP SAN).
    public static func selfSignedServer(
        commonName: String = "journeyd dev",
        extraDNSNames: [String] = [],
        validFor: TimeInterval = CertificateFactory.defaultLeafLifetime
    ) throws -> PEMCredential {
        let now = Date()
        let notBefore = now.addingTimeInterval(-backdate)
        let notAfter = now.addingTimeInterval(validFor)
        try checkValidity(notBefore: notBefore, notAfter: notAfter)

        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        let subject = try distinguishedName(commonName: commonName, organization: nil)
        let names = try subjectAlternativeNames(defaultServerNames + extraDNSNames)

        return try build {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: certificateKey.publicKey)
                names
            }
            return try selfSigned(key: key, subject: subject, notBefore: notBefore, notAfter: notAfter, extensions: extensions)
        }
    }

    /// A certificate signed by its own key (its issuer is its subject), as PEM.
    private static func selfSigned(
        key: P256.Signing.PrivateKey, subject: DistinguishedName, notBefore: Date, notAfter: Date,
        extensions: Certificate.Extensions
    ) throws -> PEMCredential {
        let certificateKey = Certificate.PrivateKey(key)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: certificateKey.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: certificateKey
        )
        return PEMCredential(
            certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
            privateKeyPEM: key.pemRepresentation + "\n"
        )
    }

    /// A CA that can issue server and client certificates.
    public static func certificateAuthority(
        commonName: String,
        notBefore: Date = Date().addingTimeInterval(-CertificateFactory.backdate),
        notAfter: Date = Date().addingTimeInterval(CertificateFactory.defaultAuthorityLifetime),
        organization: String? = nil
    ) throws -> PEMCredential {
        try checkValidity(notBefore: notBefore, notAfter: notAfter)
        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        let subject = try distinguishedName(commonName: commonName, organization: organization)

        return try build {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: certificateKey.publicKey)
            }
            return try selfSigned(key: key, subject: subject, notBefore: notBefore, notAfter: notAfter, extensions: extensions)
        }
    }

    /// Leaf issued by `issuer` (which must be a CA: see ``certificateAuthority(commonName:notBefore:notAfter:organization:)``).
    ///
    /// - `.server`: serverAuth EKU; SANs localhost, 127.0.0.1, ::1, then `dnsNames` (IP-looking names become IP SANs).
    /// - `.client`: clientAuth EKU; SANs only if `dnsNames` is not empty.
    ///
    /// Subject is `CN=commonName` (preceded by `O=organization` when given). `notBefore`/`notAfter` may be in the
    /// past, so tests can make expired certificates.
    public static func issueLeaf(
        commonName: String,
        usage: CertificateUsage,
        issuer: PEMCredential,
        dnsNames: [String] = [],
        notBefore: Date = Date().addingTimeInterval(-CertificateFactory.backdate),
        notAfter: Date = Date().addingTimeInterval(CertificateFactory.defaultLeafLifetime),
        organization: String? = nil
    ) throws -> PEMCredential {
        try checkValidity(notBefore: notBefore, notAfter: notAfter)
        let issuerCertificate = try issuer.certificate()
        let issuerKey = try issuer.privateKey()
        guard issuerKey.publicKey == issuerCertificate.publicKey else {
            throw CertificateFactoryError.keyDoesNotMatchCertificate
        }
        let basicConstraints = try? issuerCertificate.extensions.basicConstraints
        guard case .isCertificateAuthority = basicConstraints else {
            throw CertificateFactoryError.issuerIsNotCertificateAuthority(subject: String(describing: issuerCertificate.subject))
        }

        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        let subject = try distinguishedName(commonName: commonName, organization: organization)
        let sanList: [String]
        let keyUsage: ExtendedKeyUsage
        switch usage {
        case .server:
            sanList = defaultServerNames + dnsNames
            keyUsage = try ExtendedKeyUsage([.serverAuth])
        case .client:
            sanList = dnsNames
            keyUsage = try ExtendedKeyUsage([.clientAuth])
        }
        let names = sanList.isEmpty ? nil : try subjectAlternativeNames(sanList)
        let issuerKeyIdentifier =
            (try? issuerCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: issuerCertificate.publicKey).keyIdentifier

        return try build {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                keyUsage
                SubjectKeyIdentifier(hash: certificateKey.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: issuerKeyIdentifier)
                if let names {
                    names
                }
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: certificateKey.publicKey,
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: issuerCertificate.subject,
                subject: subject,
                signatureAlgorithm: signatureAlgorithm(for: issuerKey),
                extensions: extensions,
                issuerPrivateKey: issuerKey
            )
            return PEMCredential(
                certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
                privateKeyPEM: key.pemRepresentation + "\n"
            )
        }
    }

    /// SHA-256 of the first certificate's DER in `certificatePEM`, as uppercase hex pairs joined by ":"
    /// (what `openssl x509 -noout -fingerprint -sha256` prints after the `=`).
    public static func fingerprint(certificatePEM: String) throws -> String {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: certificatePEM)
        } catch {
            throw CertificateFactoryError.invalidCertificatePEM(reason: CertificateFactoryError.reason(for: error))
        }
        guard let document = documents.first(where: { $0.discriminator == "CERTIFICATE" }) else {
            throw CertificateFactoryError.invalidCertificatePEM(reason: "no CERTIFICATE block found")
        }
        return fingerprint(der: document.derBytes)
    }

    /// SHA-256 fingerprint of DER bytes, uppercase hex pairs joined by ":".
    public static func fingerprint(der: some DataProtocol) -> String {
        let hexDigits = Array("0123456789ABCDEF")
        return SHA256.hash(data: der).map { byte in
            String([hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
        }.joined(separator: ":")
    }

    /// SHA-256 fingerprint of a parsed certificate.
    public static func fingerprint(certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return fingerprint(der: serializer.serializedBytes)
    }

    // MARK: - Helpers

    private static func checkValidity(notBefore: Date, notAfter: Date) throws {
        guard notAfter > notBefore else {
            throw CertificateFactoryError.invalidValidityPeriod(notBefore: notBefore, notAfter: notAfter)
        }
    }

    private static func build(_ body: () throws -> PEMCredential) throws -> PEMCredential {
        do {
            return try body()
        } catch let error as CertificateFactoryError {
            throw error
        } catch {
            throw CertificateFactoryError.generationFailed(reason: CertificateFactoryError.reason(for: error))
        }
    }

    private static func signatureAlgorithm(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        // Prefer the SHA-256 variant the key supports (ECDSA P-256 from this factory; others if a caller's CA differs).
        let supported = key.supportedSignatureAlgorithms
        for preferred in [Certificate.SignatureAlgorithm.ecdsaWithSHA256, .ecdsaWithSHA384, .ecdsaWithSHA512,
                          .sha256WithRSAEncryption, .ed25519]
        where supported.contains(preferred) {
            return preferred
        }
        return supported.first ?? .ecdsaWithSHA256
    }

    private static func distinguishedName(commonName: String, organization: String?) throws -> DistinguishedName {
        let trimmed = commonName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw CertificateFactoryError.invalidName(commonName, reason: "the common name must not be empty")
        }
        guard trimmed.utf8.count <= 64 else {
            throw CertificateFactoryError.invalidName(commonName, reason: "a common name is at most 64 bytes")
        }
        do {
            if let organization, !organization.isEmpty {
                return try DistinguishedName {
                    OrganizationName(organization)
                    CommonName(trimmed)
                }
            }
            return try DistinguishedName {
                CommonName(trimmed)
            }
        } catch {
            throw CertificateFactoryError.invalidName(commonName, reason: CertificateFactoryError.reason(for: error))
        }
    }

    /// DNS names and IP addresses, de-duplicated in order. Strings that parse as IPv4/IPv6 become IP SANs.
    static func subjectAlternativeNames(_ names: [String]) throws -> SubjectAlternativeNames {
        var seen = Set<String>()
        var result: [GeneralName] = []
        for raw in names {
            let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let stripped = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
            if let bytes = ipAddressBytes(stripped) {
                if seen.insert("ip:" + bytes.map { String($0) }.joined(separator: ".")).inserted {
                    result.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
                }
                continue
            }
            try checkDNSName(name)
            if seen.insert("dns:" + name.lowercased()).inserted {
                result.append(.dnsName(name))
            }
        }
        return SubjectAlternativeNames(result)
    }

    private static func checkDNSName(_ name: String) throws {
        guard !name.isEmpty else {
            throw CertificateFactoryError.invalidName(name, reason: "a DNS name must not be empty")
        }
        guard name.utf8.count <= 253 else {
            throw CertificateFactoryError.invalidName(name, reason: "a DNS name is at most 253 characters")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.*_")
        guard name.allSatisfy({ allowed.contains($0) }) else {
            throw CertificateFactoryError.invalidName(
                name,
                reason: "a DNS name may contain only letters, digits, '-', '.' and a leading '*.' wildcard"
            )
        }
        if name.contains("*") && !(name.hasPrefix("*.") && name.dropFirst(2).firstIndex(of: "*") == nil) {
            throw CertificateFactoryError.invalidName(name, reason: "a wildcard is only allowed as the whole first label ('*.example.com')")
        }
        if name.hasPrefix(".") || name.hasSuffix(".") || name.contains("..") {
            throw CertificateFactoryError.invalidName(name, reason: "a DNS name must not have empty labels")
        }
    }

    /// 4 bytes for IPv4, 16 for IPv6, nil when `string` is not an IP address.
    static func ipAddressBytes(_ string: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, string, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, string, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
