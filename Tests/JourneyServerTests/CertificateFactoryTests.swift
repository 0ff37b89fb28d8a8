import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import Testing
import X509

import JourneyServer

@Suite("CertificateFactory")
struct CertificateFactoryTests {
    // MARK: - Parsing, extensions

    @Test("self-signed server certificate parses and carries the dev SANs and server EKU")
    func selfSignedServerContents() throws {
        let credential = try CertificateFactory.selfSignedServer(extraDNSNames: ["dev.example.test", "10.1.2.3"])
        let certificate = try Certificate(pemEncoded: credential.certificatePEM)
        let key = try Certificate.PrivateKey(pemEncoded: credential.privateKeyPEM)

        #expect(key.publicKey == certificate.publicKey)
        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.subject.description.contains("CN=journeyd dev"))
        #expect(credential.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(credential.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))

        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.dnsName("dev.example.test")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 1, 2, 3]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))))
        #expect(Array(names).count == 5)

        let eku = try #require(try certificate.extensions.extendedKeyUsage)
        #expect(eku.contains(.serverAuth))
        guard case .isCertificateAuthority = try certificate.extensions.basicConstraints else {
            Issue.record("self-signed dev certificate should be usable as its own CA")
            return
        }

        // Default lifetime: about 825 days, back-dated an hour.
        let lifetime = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore)
        #expect(abs(lifetime - (825 * 86400 + 3600)) < 5)
        #expect(certificate.notValidBefore < Date())
    }

    @Test("self-signed certificate verifies as its own root for localhost, 127.0.0.1 and ::1, not other names")
    func selfSignedVerifies() async throws {
        let credential = try CertificateFactory.selfSignedServer()
        let certificate = try Certificate(pemEncoded: credential.certificatePEM)
        for (host, ip) in [("localhost", nil), (nil, "127.0.0.1"), (nil, "::1")] as [(String?, String?)] {
            #expect(await Self.verifies(certificate, roots: [certificate], host: host, ip: ip), "host \(host ?? ip ?? "")")
        }
        #expect(await !Self.verifies(certificate, roots: [certificate], host: "example.com", ip: nil))
        // Not trusted by an unrelated root.
        let other = try Certificate(pemEncoded: try CertificateFactory.selfSignedServer().certificatePEM)
        #expect(await !Self.verifies(certificate, roots: [other], host: "localhost", ip: nil))
    }

    @Test("CA-issued server and client leaves verify against the CA and carry the right EKUs")
    func issuedLeavesVerify() async throws {
        let ca = try CertificateFactory.certificateAuthority(commonName: "Test CA", organization: "journeyd tests")
        let caCertificate = try Certificate(pemEncoded: ca.certificatePEM)
        guard case .isCertificateAuthority = try caCertificate.extensions.basicConstraints else {
            Issue.record("CA lacks basicConstraints CA:TRUE")
            return
        }
        let caKeyUsage = try #require(try caCertificate.extensions.keyUsage)
        #expect(caKeyUsage.keyCertSign)

        let server = try CertificateFactory.issueLeaf(
            commonName: "ingest.local",
            usage: .server,
            issuer: ca,
            dnsNames: ["ingest.local"]
        )
        let serverCertificate = try Certificate(pemEncoded: server.certificatePEM)
        #expect(serverCertificate.issuer == caCertificate.subject)
        #expect(serverCertificate.subject.description == "CN=ingest.local")
        #expect(try serverCertificate.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try serverCertificate.extensions.extendedKeyUsage?.contains(.clientAuth) == false)
        #expect(try serverCertificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try serverCertificate.extensions.authorityKeyIdentifier?.keyIdentifier
            == caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
        let serverNames = try #require(try serverCertificate.extensions.subjectAlternativeNames)
        #expect(serverNames.contains(.dnsName("localhost")))
        #expect(serverNames.contains(.dnsName("ingest.local")))
        #expect(serverNames.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))

        #expect(await Self.verifies(serverCertificate, roots: [caCertificate], host: "localhost", ip: nil))
        #expect(await Self.verifies(serverCertificate, roots: [caCertificate], host: "ingest.local", ip: nil))
        #expect(await Self.verifies(serverCertificate, roots: [caCertificate], host: nil, ip: "::1"))
        #expect(await !Self.verifies(serverCertificate, roots: [caCertificate], host: "other.local", ip: nil))

        let client = try CertificateFactory.issueLeaf(
            commonName: "cc-exporter",
            usage: .client,
            issuer: ca,
            organization: "Call Centre"
        )
        let clientCertificate = try Certificate(pemEncoded: client.certificatePEM)
        #expect(clientCertificate.subject.description.contains("CN=cc-exporter"))
        #expect(clientCertificate.subject.description.contains("O=Call Centre"))
        #expect(try clientCertificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect(try clientCertificate.extensions.extendedKeyUsage?.contains(.serverAuth) == false)
        #expect(try clientCertificate.extensions.subjectAlternativeNames == nil)
        #expect(await Self.verifies(clientCertificate, roots: [caCertificate]))

        // Another CA's leaf does not verify against this CA.
        let otherCA = try CertificateFactory.certificateAuthority(commonName: "Test CA")
        let foreign = try Certificate(
            pemEncoded: try CertificateFactory.issueLeaf(commonName: "x", usage: .client, issuer: otherCA).certificatePEM
        )
        #expect(await !Self.verifies(foreign, roots: [caCertificate]))
    }

    @Test("an expired leaf does not verify now; validate() reports it")
    func expiredLeafDoesNotVerify() async throws {
        let ca = try CertificateFactory.certificateAuthority(commonName: "Expiry CA")
        let caCertificate = try Certificate(pemEncoded: ca.certificatePEM)
        let now = Date()
        let expired = try CertificateFactory.issueLeaf(
            commonName: "old-client",
            usage: .client,
            issuer: ca,
            notBefore: now.addingTimeInterval(-10 * 86400),
            notAfter: now.addingTimeInterval(-86400)
        )
        let expiredCertificate = try Certificate(pemEncoded: expired.certificatePEM)
        #expect(await !Self.verifies(expiredCertificate, roots: [caCertificate]))
        #expect(throws: CertificateFactoryError.self) { try expired.validate() }
        do {
            try expired.validate()
        } catch let error as CertificateFactoryError {
            guard case .expired = error else {
                Issue.record("expected .expired, got \(error)")
                return
            }
            #expect(error.description.contains("expired"))
        }

        let fresh = try CertificateFactory.issueLeaf(commonName: "new-client", usage: .client, issuer: ca)
        #expect(await Self.verifies(try Certificate(pemEncoded: fresh.certificatePEM), roots: [caCertificate]))
        #expect(throws: Never.self) { try fresh.validate() }
    }

    @Test("bad inputs give actionable errors")
    func invalidInputs() throws {
        let ca = try CertificateFactory.certificateAuthority(commonName: "CA")
        let leaf = try CertificateFactory.issueLeaf(commonName: "leaf", usage: .server, issuer: ca)

        // A leaf cannot issue.
        #expect {
            try CertificateFactory.issueLeaf(commonName: "x", usage: .client, issuer: leaf)
        } throws: { error in
            guard case .issuerIsNotCertificateAuthority = error as? CertificateFactoryError else { return false }
            return "\(error)".contains("not a certificate authority")
        }
        // Mismatched key.
        let mismatched = PEMCredential(certificatePEM: ca.certificatePEM, privateKeyPEM: leaf.privateKeyPEM)
        #expect(throws: CertificateFactoryError.keyDoesNotMatchCertificate) {
            try CertificateFactory.issueLeaf(commonName: "x", usage: .client, issuer: mismatched)
        }
        #expect(throws: CertificateFactoryError.keyDoesNotMatchCertificate) { try mismatched.validate() }
        // Garbage PEM.
        let garbage = PEMCredential(certificatePEM: "hello", privateKeyPEM: ca.privateKeyPEM)
        #expect {
            try CertificateFactory.issueLeaf(commonName: "x", usage: .client, issuer: garbage)
        } throws: { error in
            guard case .invalidCertificatePEM = error as? CertificateFactoryError else { return false }
            return true
        }
        #expect(throws: CertificateFactoryError.self) { try CertificateFactory.fingerprint(certificatePEM: "nope") }
        #expect(garbage.sha256Fingerprint == "")
        // Inverted validity, empty CN, bad DNS name.
        let now = Date()
        #expect(throws: CertificateFactoryError.invalidValidityPeriod(notBefore: now, notAfter: now)) {
            try CertificateFactory.certificateAuthority(commonName: "CA", notBefore: now, notAfter: now)
        }
        #expect(throws: CertificateFactoryError.self) { try CertificateFactory.certificateAuthority(commonName: "  ") }
        #expect(throws: CertificateFactoryError.self) {
            try CertificateFactory.selfSignedServer(extraDNSNames: ["bad name!"])
        }
    }

    // MARK: - Fingerprints

    @Test("fingerprint is SHA-256 of the certificate DER in openssl's format")
    func fingerprintMatchesIndependentDigest() throws {
        let credential = try CertificateFactory.selfSignedServer()

        // Independent path 1: base64-decode the PEM body by hand.
        let body = credential.certificatePEM
            .split(whereSeparator: \.isNewline)
            .filter { !$0.hasPrefix("-----") }
            .joined()
        let der = try #require(Data(base64Encoded: body))
        let expected = SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")

        // Independent path 2: re-serialize the parsed certificate.
        var serializer = DER.Serializer()
        try serializer.serialize(try Certificate(pemEncoded: credential.certificatePEM))
        #expect(Array(der) == serializer.serializedBytes)

        #expect(credential.sha256Fingerprint == expected)
        #expect(try CertificateFactory.fingerprint(certificatePEM: credential.certificatePEM) == expected)
        #expect(expected.count == 32 * 3 - 1)
        #expect(expected.allSatisfy { "0123456789ABCDEF:".contains($0) })
        // A chain's fingerprint is its first certificate's.
        let other = try CertificateFactory.selfSignedServer()
        #expect(try CertificateFactory.fingerprint(certificatePEM: credential.certificatePEM + other.certificatePEM) == expected)
    }

    // MARK: - Files

    @Test("write creates parent directories, key 0600, cert 0644, and round-trips")
    func writeModesAndRoundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let credential = try CertificateFactory.selfSignedServer()
        let certPath = directory.path + "/a/b/server.crt"
        let keyPath = directory.path + "/a/b/private/server.key"

        try credential.write(certificateTo: certPath, privateKeyTo: keyPath)

        #expect(try Self.mode(of: keyPath) == 0o600)
        #expect(try Self.mode(of: certPath) == 0o644)
        let back = try PEMCredential.read(certificateFrom: certPath, privateKeyFrom: keyPath)
        #expect(back == credential)
        // No temporary files left beside them.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/a/b").sorted() == ["private", "server.crt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/a/b/private") == ["server.key"])

        // Overwrite replaces the content atomically and keeps the modes.
        let second = try CertificateFactory.selfSignedServer()
        try second.write(certificateTo: certPath, privateKeyTo: keyPath)
        #expect(try PEMCredential.read(certificateFrom: certPath, privateKeyFrom: keyPath) == second)
        #expect(try Self.mode(of: keyPath) == 0o600)
    }

    @Test("write and read failures name the path and the reason")
    func writeErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let credential = try CertificateFactory.selfSignedServer()
        let blocker = directory.path + "/not-a-dir"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))

        #expect {
            try credential.write(certificateTo: blocker + "/server.crt", privateKeyTo: blocker + "/server.key")
        } throws: { error in
            "\(error)".contains(blocker)
        }
        #expect {
            try PEMCredential.read(certificateFrom: directory.path + "/missing.crt", privateKeyFrom: blocker)
        } throws: { error in
            "\(error)" == "cannot read \(directory.path)/missing.crt: no such file or directory"
        }
        #expect {
            try credential.write(certificateTo: directory.path, privateKeyTo: directory.path + "/k.key")
        } throws: { error in
            "\(error)".hasPrefix("cannot write \(directory.path)")
        }
    }

    @Test("DevCertificateStore creates once, then reuses the pair without rewriting it")
    func devStoreReuses() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DevCertificateStore(directory: directory.path + "/tls")

        let first = try store.ensure()
        #expect(first.created)
        #expect(first.certificatePath == directory.path + "/tls/server.crt")
        #expect(first.privateKeyPath == directory.path + "/tls/server.key")
        #expect(try Self.mode(of: first.privateKeyPath) == 0o600)
        let written = try PEMCredential.read(certificateFrom: first.certificatePath, privateKeyFrom: first.privateKeyPath)
        #expect(first.fingerprint == written.sha256Fingerprint)
        try written.validate()
        let inodeBefore = try Self.inode(of: first.certificatePath)

        let second = try store.ensure()
        #expect(!second.created)
        #expect(second.fingerprint == first.fingerprint)
        #expect(try Self.inode(of: first.certificatePath) == inodeBefore)
        #expect(try PEMCredential.read(certificateFrom: first.certificatePath, privateKeyFrom: first.privateKeyPath) == written)

        // A missing key means a new pair.
        try FileManager.default.removeItem(atPath: first.privateKeyPath)
        let third = try store.ensure()
        #expect(third.created)
        #expect(third.fingerprint != first.fingerprint)
        try PEMCredential.read(certificateFrom: third.certificatePath, privateKeyFrom: third.privateKeyPath).validate()
    }

    @Test("DevCertificateStore keeps a user's valid pair, renews an expired one, refuses a broken one")
    func devStoreExistingPairs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = DevCertificateStore(directory: directory.path)

        // A valid pair put there by someone else (CA-issued) is kept.
        let ca = try CertificateFactory.certificateAuthority(commonName: "User CA")
        let users = try CertificateFactory.issueLeaf(commonName: "mine", usage: .server, issuer: ca)
        try users.write(certificateTo: store.certificatePath, privateKeyTo: store.privateKeyPath)
        let kept = try store.ensure()
        #expect(!kept.created)
        #expect(kept.fingerprint == users.sha256Fingerprint)

        // Expired: replaced.
        let now = Date()
        let expired = try CertificateFactory.issueLeaf(
            commonName: "old", usage: .server, issuer: ca,
            notBefore: now.addingTimeInterval(-900_000), notAfter: now.addingTimeInterval(-1000)
        )
        try expired.write(certificateTo: store.certificatePath, privateKeyTo: store.privateKeyPath)
        let renewed = try store.ensure()
        #expect(renewed.created)
        #expect(renewed.fingerprint != expired.sha256Fingerprint)

        // Key and certificate that do not belong together: an error, files untouched.
        let mismatched = PEMCredential(certificatePEM: users.certificatePEM, privateKeyPEM: ca.privateKeyPEM)
        try mismatched.write(certificateTo: store.certificatePath, privateKeyTo: store.privateKeyPath)
        #expect {
            try store.ensure()
        } throws: { error in
            let text = "\(error)"
            return text.contains(store.certificatePath) && text.contains("remove both files")
        }
        #expect(try PEMCredential.read(certificateFrom: store.certificatePath, privateKeyFrom: store.privateKeyPath) == mismatched)
    }

    // MARK: - NIOSSL

    @Test("NIOSSL loads the PEMs and builds server and client contexts")
    func nioSSLAcceptsPEMs() throws {
        let ca = try CertificateFactory.certificateAuthority(commonName: "NIO CA")
        let server = try CertificateFactory.issueLeaf(commonName: "localhost", usage: .server, issuer: ca)
        let client = try CertificateFactory.issueLeaf(commonName: "stream-client", usage: .client, issuer: ca)
        let selfSigned = try CertificateFactory.selfSignedServer()

        for credential in [ca, server, client, selfSigned] {
            let certificates = try NIOSSLCertificate.fromPEMBytes(Array(credential.certificatePEM.utf8))
            #expect(certificates.count == 1)
            _ = try NIOSSLPrivateKey(bytes: Array(credential.privateKeyPEM.utf8), format: .pem)
            let serverConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: certificates.map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(credential.privateKeyPEM.utf8), format: .pem))
            )
            _ = try NIOSSLContext(configuration: serverConfiguration)
        }

        // BoringSSL refuses a key that does not match the certificate, proving it checks the pair.
        let mismatchedConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(server.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(client.privateKeyPEM.utf8), format: .pem))
        )
        #expect(throws: (any Error).self) { try NIOSSLContext(configuration: mismatchedConfiguration) }
    }

    @Test("mutual TLS handshake over loopback succeeds with CA-issued certs and fails with an expired client cert or an untrusted CA")
    func loopbackMutualTLS() async throws {
        let ca = try CertificateFactory.certificateAuthority(commonName: "Loopback CA")
        let server = try CertificateFactory.issueLeaf(commonName: "localhost", usage: .server, issuer: ca)
        let client = try CertificateFactory.issueLeaf(commonName: "stream-client", usage: .client, issuer: ca)
        let now = Date()
        let expiredClient = try CertificateFactory.issueLeaf(
            commonName: "expired-client", usage: .client, issuer: ca,
            notBefore: now.addingTimeInterval(-20 * 86400), notAfter: now.addingTimeInterval(-86400)
        )

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverContext = try NIOSSLContext(
            configuration: .makeServerConfigurationWithMTLS(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(server.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(server.privateKeyPEM.utf8), format: .pem)),
                trustRoots: .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.certificatePEM.utf8)))
            )
        )
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()

        func exchange(clientCredential: PEMCredential, trusting root: PEMCredential) async throws -> String {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(root.certificatePEM.utf8)))
            configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(clientCredential.certificatePEM.utf8))
                .map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try NIOSSLPrivateKey(bytes: Array(clientCredential.privateKeyPEM.utf8), format: .pem)
            )
            let clientContext = try NIOSSLContext(configuration: configuration)
            let response = group.next().makePromise(of: String.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: clientContext, serverHostname: "localhost")
                        )
                        try channel.pipeline.syncOperations.addHandler(LineCollector(promise: response))
                    }
                }
                .connect(to: listener.localAddress!)
                .get()
            _ = channel.eventLoop.scheduleTask(in: .seconds(10)) {
                response.fail(HandshakeTestTimeout())
            }
            channel.writeAndFlush(ByteBuffer(string: "ping\n"), promise: nil)
            defer { channel.close(promise: nil) }
            return try await response.futureResult.get()
        }

        do {
            #expect(try await exchange(clientCredential: client, trusting: ca) == "ping\n")
            // The server refuses an expired client certificate.
            await #expect {
                try await exchange(clientCredential: expiredClient, trusting: ca)
            } throws: { error in
                // The server's alert, as the client sees it.
                "\(error)".contains("CERTIFICATE_EXPIRED")
            }
            // The client refuses a server whose CA it does not trust.
            let otherCA = try CertificateFactory.certificateAuthority(commonName: "Loopback CA")
            await #expect {
                try await exchange(clientCredential: client, trusting: otherCA)
            } throws: { error in
                // BoringSSL's verdict on the server's chain, not a timeout.
                "\(error)".contains("CERTIFICATE_VERIFY_FAILED")
            }
        }
        try await listener.close()
        try await group.shutdownGracefully()
    }

    // MARK: - Helpers

    static func verifies(
        _ leaf: Certificate,
        roots: [Certificate],
        host: String? = nil,
        ip: String? = nil
    ) async -> Bool {
        let result: CertificateValidationResult
        if host != nil || ip != nil {
            var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
                RFC5280Policy()
                ServerIdentityPolicy(serverHostname: host, serverIP: ip)
            }
            result = await verifier.validate(leaf: leaf, intermediates: CertificateStore())
        } else {
            var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
                RFC5280Policy()
            }
            result = await verifier.validate(leaf: leaf, intermediates: CertificateStore())
        }
        if case .validCertificate = result { return true }
        return false
    }

    static func mode(of path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileReadNoSuchFile) }
        return Int(info.st_mode & 0o7777)
    }

    static func inode(of path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileReadNoSuchFile) }
        return UInt64(info.st_ino)
    }
}

private struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/journeyd-certs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

private struct HandshakeTestTimeout: Error {}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

private final class LineCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<String>
    private var received = ""

    init(promise: EventLoopPromise<String>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readString(length: buffer.readableBytes) ?? ""
        if received.hasSuffix("\n") {
            promise.succeed(received)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
