import Foundation
import JourneyServer

/// Paths and generated credentials shared by the end-to-end tests.
enum TestEnvironment {
    /// The `journeyd` binary built next to the test bundle (SwiftPM builds all products before tests).
    static var journeydBinary: String { builtProduct("journeyd") }

    static func builtProduct(_ name: String) -> String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let fallback = repositoryRoot + "/.build/debug/" + name
        precondition(FileManager.default.isExecutableFile(atPath: fallback), "cannot find the built \(name) binary; run swift build first")
        return fallback
    }

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        preconditionFailure("no Package.swift above \(#filePath)")
    }()

    /// A fresh directory under the system temp dir, removed by the caller.
    static func temporaryDirectory(_ label: String) -> String {
        let path = NSTemporaryDirectory() + "journeyd-e2e-\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A CA and a server certificate it signed for localhost / 127.0.0.1 / ::1, written as PEM files.
    struct Certificates {
        var directory: String
        var caCertificate: String { directory + "/ca.crt" }
        var serverCertificate: String { directory + "/server.crt" }
        var serverKey: String { directory + "/server.key" }
        var ca: PEMCredential

        static func generate(in directory: String) throws -> Certificates {
            let ca = try CertificateFactory.certificateAuthority(commonName: "journeyd test CA")
            let server = try CertificateFactory.issueLeaf(commonName: "localhost", usage: .server, issuer: ca)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ca.write(certificateTo: directory + "/ca.crt", privateKeyTo: directory + "/ca.key")
            try server.write(certificateTo: directory + "/server.crt", privateKeyTo: directory + "/server.key")
            return Certificates(directory: directory, ca: ca)
        }
    }
}
