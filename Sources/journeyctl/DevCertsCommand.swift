import ArgumentParser
import Foundation
import JourneyServer

/// `journeyctl dev-certs --out DIR [--name NAME ...] [--client CN ...] [--new-ca]`
///
/// Writes a small development PKI: a CA, a server certificate signed by it (SANs localhost, 127.0.0.1, ::1
/// plus every --name) and one client certificate per --client. An existing valid CA in DIR is reused so
/// clients issued earlier stay trusted; --new-ca replaces it.
struct DevCertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-certs",
        abstract: "Generate a development CA, server certificate and client certificates.",
        discussion: """
            Writes DIR/ca.crt, DIR/ca.key, DIR/server.crt, DIR/server.key and, for each --client CN, \
            DIR/client-<CN>.crt and DIR/client-<CN>.key. Keys are P-256 ECDSA, written with mode 0600. \
            The server certificate is valid for localhost, 127.0.0.1, ::1 and every --name (a name that \
            is an IP address becomes an IP SAN). An existing CA in DIR is reused unless --new-ca is given.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Directory to write the files to (created if missing).", valueName: "dir"))
    var out: String

    @Option(
        name: .customLong("name"),
        help: ArgumentHelp("Extra DNS name or IP address for the server certificate (repeatable).", valueName: "name")
    )
    var names: [String] = []

    @Option(
        name: .customLong("client"),
        help: ArgumentHelp("Issue a client certificate with this common name (repeatable).", valueName: "cn")
    )
    var clients: [String] = []

    @Flag(name: .customLong("new-ca"), help: "Replace an existing CA in the output directory instead of reusing it.")
    var newCA = false

    @Option(name: .customLong("ca-name"), help: ArgumentHelp("Common name of a newly created CA.", valueName: "cn"))
    var caName = "journeyd dev CA"

    func validate() throws {
        if out.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--out must name a directory")
        }
        for client in clients where client.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--client needs a non-empty common name")
        }
        var seen = Set<String>()
        for client in clients {
            let file = Self.clientFileStem(client)
            if !seen.insert(file).inserted {
                throw ValidationError("two --client values map to the same file name '\(file)'; use distinct names")
            }
        }
    }

    func run() throws {
        let directory = Self.absolute(out)
        let caCertificatePath = directory + "/ca.crt"
        let caKeyPath = directory + "/ca.key"

        // The CA: reuse a valid existing one so earlier client certificates stay trusted.
        var ca: PEMCredential?
        if !newCA,
            FileManager.default.fileExists(atPath: caCertificatePath),
            FileManager.default.fileExists(atPath: caKeyPath)
        {
            let existing = try PEMCredential.read(certificateFrom: caCertificatePath, privateKeyFrom: caKeyPath)
            do {
                try existing.validate()
                ca = existing
            } catch {
                throw DevCertsError(
                    message: "existing CA \(caCertificatePath) cannot be used (\(error)); pass --new-ca to replace it"
                )
            }
        }
        var lines: [String] = []
        let caCredential: PEMCredential
        if let ca {
            caCredential = ca
            lines.append("reused \(caCertificatePath)  (CA, SHA-256 \(ca.sha256Fingerprint))")
        } else {
            caCredential = try CertificateFactory.certificateAuthority(commonName: caName)
            try caCredential.write(certificateTo: caCertificatePath, privateKeyTo: caKeyPath)
            lines.append("wrote  \(caCertificatePath)  (CA \"\(caName)\", SHA-256 \(caCredential.sha256Fingerprint))")
            lines.append("wrote  \(caKeyPath)  (mode 0600)")
        }

        // The server certificate.
        let serverCertificatePath = directory + "/server.crt"
        let serverKeyPath = directory + "/server.key"
        let serverName = names.first ?? "localhost"
        let server = try CertificateFactory.issueLeaf(
            commonName: serverName,
            usage: .server,
            issuer: caCredential,
            dnsNames: names
        )
        try server.write(certificateTo: serverCertificatePath, privateKeyTo: serverKeyPath)
        let sans = Self.unique(CertificateFactory.defaultServerNames + names).joined(separator: ", ")
        lines.append("wrote  \(serverCertificatePath)  (server, SANs \(sans), SHA-256 \(server.sha256Fingerprint))")
        lines.append("wrote  \(serverKeyPath)  (mode 0600)")

        // Client certificates.
        for client in clients {
            let commonName = client.trimmingCharacters(in: .whitespaces)
            let stem = Self.clientFileStem(commonName)
            let certificatePath = directory + "/\(stem).crt"
            let keyPath = directory + "/\(stem).key"
            let credential = try CertificateFactory.issueLeaf(commonName: commonName, usage: .client, issuer: caCredential)
            try credential.write(certificateTo: certificatePath, privateKeyTo: keyPath)
            lines.append("wrote  \(certificatePath)  (client CN=\(commonName), SHA-256 \(credential.sha256Fingerprint))")
            lines.append("wrote  \(keyPath)  (mode 0600)")
        }

        for line in lines { print(line) }
        print(
            "hint: set tls.certificate: \(serverCertificatePath), tls.private_key: \(serverKeyPath), "
                + "tls.client_ca: \(caCertificatePath); clients trust \(caCertificatePath)"
        )
    }

    /// `client-<CN>` with anything but letters, digits, '.', '-' and '_' replaced by '_'.
    static func clientFileStem(_ commonName: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        let cleaned = String(commonName.trimmingCharacters(in: .whitespaces).map { allowed.contains($0) ? $0 : "_" })
        return "client-" + (cleaned.hasPrefix(".") ? "_" + cleaned.dropFirst() : cleaned)
    }

    static func absolute(_ path: String) -> String {
        var result = path
        if !result.hasPrefix("/") {
            let cwd = FileManager.default.currentDirectoryPath
            result = result == "." ? cwd : cwd + "/" + (result.hasPrefix("./") ? String(result.dropFirst(2)) : result)
        }
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0.lowercased()).inserted }
    }
}

struct DevCertsError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
