import Foundation
import Hummingbird

/// Finds the source a tracking request belongs to: the write key is the HTTP Basic username
/// (Segment's convention; the password is ignored) or, without an Authorization header, the
/// body's `writeKey`. Immutable; one per request, over the configuration in force when it started.
struct WriteKeyAuthenticator: Sendable {
    enum Failure: Error, Equatable {
        case malformedHeader
        case unknownKey
        case missingKey

        var message: String {
            switch self {
            case .malformedHeader: return "Authorization header must be HTTP Basic with the write key as the username"
            case .unknownKey: return "unknown write key"
            case .missingKey: return "missing write key: send it as the HTTP Basic username or as \"writeKey\" in the body"
            }
        }
    }

    let configuration: JourneydConfiguration

    /// The write key carried by an `Authorization` header, or nil without one.
    static func headerWriteKey(_ request: Request) throws(Failure) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8)
        else { throw .malformedHeader }
        let username = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !username.isEmpty else { throw .missingKey }
        return username
    }

    func source(forKey key: String?) throws(Failure) -> JourneydConfiguration.Source {
        guard let key, !key.isEmpty else { throw .missingKey }
        guard let source = configuration.source(forWriteKey: key) else { throw .unknownKey }
        return source
    }
}
