import Foundation
import JourneyCore

/// Prepares the no-config start: a state directory under the working directory holding a
/// generated dev TLS certificate, a random write key for a `dev` source (channel `web`) and a
/// random admin token, all kept across restarts so curl examples keep working.
public enum LocalDevelopmentSetup {
    public static let stateDirectory = "./journeyd-state"

    public struct Prepared: Sendable {
        public var configuration: JourneydConfiguration
        public var certificateFingerprint: String
        public var certificatePath: String
    }

    public static func prepare(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Prepared {
        let state = environment[ConfigurationLoader.environmentPrefix + "STATE_DIR"] ?? stateDirectory
        let devDirectory = state + "/dev"
        try FileManager.default.createDirectory(atPath: devDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let certificate = try DevCertificateStore(directory: state + "/tls").ensure()
        let writeKey = try persistentSecret(at: devDirectory + "/write.key")
        let adminToken = try persistentSecret(at: devDirectory + "/admin.token")
        let configuration = try ConfigurationLoader.localDefaults(
            stateDirectory: state, writeKey: writeKey, adminToken: adminToken,
            tls: .init(certificatePath: certificate.certificatePath, privateKeyPath: certificate.privateKeyPath, clientCAPath: nil),
            environment: environment)
        return Prepared(configuration: configuration, certificateFingerprint: certificate.fingerprint, certificatePath: certificate.certificatePath)
    }

    /// Reads a secret kept in a file, or creates it (32 random hex digits, mode 0600).
    private static func persistentSecret(at path: String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError.unreadableFile(path: path, reason: "cannot create it")
        }
        return secret
    }

    /// The human banner printed on stdout once the listeners are bound.
    public static func banner(_ prepared: Prepared, http: String, stream: String, admin: String) -> String {
        let configuration = prepared.configuration
        let key = configuration.sources.first?.writeKey ?? ""
        let token = configuration.listeners.adminToken
        return """
            journeyd is running on safe local defaults (no --config): loopback only, state in \(configuration.stateDirectory)
              tracking API  https://\(http)   write key \(key)
              event stream  \(stream) (TLS, one JSON event per line; first line {"writeKey":"\(key)"})
              admin API     http://\(admin)    token \(token)
              dev certificate \(prepared.certificatePath)
                SHA-256 \(prepared.certificateFingerprint)
            Send an event and look the customer up:
              curl --cacert \(prepared.certificatePath) -u \(key): https://\(http)/v1/track \\
                -H 'Content-Type: application/json' -d '{"userId":"ada","event":"Product Viewed"}'
              curl -H 'Authorization: Bearer \(token)' 'http://\(admin)/v1/profiles?type=user_id&value=ada'
            Stream events (each line is acknowledged with {"ack":N} once durable):
              printf '%s\\n' '{"writeKey":"\(key)"}' '{"type":"track","userId":"ada","event":"Order Completed"}' |
                openssl s_client -quiet -CAfile \(prepared.certificatePath) -connect \(stream)

            """
    }
}
