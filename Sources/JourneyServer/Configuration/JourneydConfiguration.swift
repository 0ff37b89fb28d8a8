import JourneyCore

/// Everything the daemon runs with, validated. Built by `ConfigurationLoader` from the YAML file
/// (or the safe local defaults) and never mutated afterwards; `Sendable`, shared by all services.
/// A SIGHUP reload builds a new one and swaps it into `LiveConfiguration` (docs/OPERATIONS.md).
public struct JourneydConfiguration: Sendable {
    public var stateDirectory: String
    /// Server certificate and key (in local-defaults mode, the generated dev certificate).
    public var tls: TLSFiles
    public var listeners: Listeners
    public var sources: [Source]
    public var durability: Durability
    /// With `durability: interval`, the longest time between WAL syncs.
    public var durabilityInterval: Duration
    public var snapshots: Snapshots
    public var identity: IdentityPolicy
    /// `identity.blocklist` and `identity.default_country_code`, which `identifierNormaliser` applies.
    public var identifierRules: IdentifierRules
    public var customIdentifiers: [CustomIdentifierPath]
    public var phaseRules: PhaseRules
    public var limits: Limits
    public var maxTouchpointsPerProfile: Int
    public var logging: Logging
    /// The longest a graceful stop (drain, final snapshot, WAL sync) may take before the
    /// remaining work is cancelled.
    public var shutdownTimeout: Duration = .seconds(120)
    /// True when no config file was given: loopback listeners, dev certificate, generated keys.
    public var isLocalDefaults: Bool

    public struct IdentifierRules: Sendable, Equatable {
        /// Values that never identify anyone, on top of the built-in list.
        public var blocklist: [String] = []
        /// Digits prepended to phone numbers written without `+`.
        public var defaultCountryCode: String?
    }

    public struct TLSFiles: Sendable, Equatable {
        public var certificatePath: String
        public var privateKeyPath: String
        public var clientCAPath: String?
    }

    public struct Listeners: Sendable {
        public var http: ListenAddress
        public var stream: ListenAddress
        public var admin: ListenAddress
        /// Bearer token for the admin data endpoints.
        public var adminToken: String
        public var adminTLS: Bool
    }

    /// A configured sender: its write key selects it, and it stamps its channel on every event.
    public struct Source: Sendable, Equatable {
        public var name: String
        public var channel: String
        public var writeKey: String?
        /// Stream clients whose verified certificate has this subject belong to this source.
        public var clientSubject: ClientSubject?
        /// Whether stream clients without a certificate may name this source by sending
        /// `{"writeKey":"…"}` as their first line.
        public var streamWriteKey: Bool = false
    }

    public enum Durability: String, Sendable, CaseIterable {
        case fsync, interval, none
    }

    public struct Snapshots: Sendable, Equatable {
        public var interval: Duration
        public var keep: Int
    }

    /// Explicit bounds on every input (DESIGN.md, Precise rules).
    public struct Limits: Sendable, Equatable {
        public var eventBytes = 32 * 1024
        public var batchBytes = 500 * 1024
        public var batchEvents = 2_500
        public var lineBytes = 32 * 1024
        public var maxConnections = 10_000
        public var idleTimeout: Duration = .seconds(60)
        /// A stream client must finish its TLS handshake within this time.
        public var handshakeTimeout: Duration = .seconds(10)
        /// Tracking requests being processed at once; past it, new ones get 503 with Retry-After
        /// instead of queueing (bounds memory under overload).
        public var maxPendingRequests = 256
    }

    public struct Logging: Sendable, Equatable {
        public enum Format: String, Sendable, CaseIterable { case logfmt, json }
        public enum Level: String, Sendable, CaseIterable { case trace, debug, info, notice, warning, error, critical }
        public var format: Format = .logfmt
        public var level: Level = .info
        /// How often the `msg=stats` line is written.
        public var statsInterval: Duration = .seconds(60)
    }

    /// Normalises identifier values with the configured blocklist and default country code.
    public var identifierNormaliser: IdentifierNormaliser {
        IdentifierNormaliser(extraBlocklist: identifierRules.blocklist, defaultCountryCode: identifierRules.defaultCountryCode)
    }

    /// Validates and normalises events for both ingest listeners, with the configured limits,
    /// identifier rules and phase rules.
    public var eventNormaliser: EventNormaliser {
        EventNormaliser(
            settings: .init(
                maxEventBytes: limits.eventBytes, identifiers: identifierNormaliser, customIdentifiers: customIdentifiers,
                phaseRules: phaseRules))
    }

    /// The source whose stream client certificate has this subject, if any.
    public func source(forClientSubject subject: ClientSubject) -> Source? {
        sources.first { $0.clientSubject == subject }
    }

    /// The source whose write key is `key`, if any (constant-time comparison per source).
    public func source(forWriteKey key: String) -> Source? {
        sources.first { source in
            guard let expected = source.writeKey else { return false }
            return ConstantTime.equals(Array(expected.utf8), Array(key.utf8))
        }
    }
}

/// Comparison whose time does not depend on where two secrets differ.
enum ConstantTime {
    static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
