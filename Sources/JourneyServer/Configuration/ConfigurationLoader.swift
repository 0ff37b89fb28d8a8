import Foundation
import JourneyCore
import JourneyStorage

/// Builds a `JourneydConfiguration` from the YAML file plus `JOURNEYD_*` environment overrides,
/// refusing unknown keys and bad values with the key's path. Stateless; call from anywhere.
///
/// Environment overrides set one scalar key each: `JOURNEYD_` + the key path in upper case with
/// `__` between levels, e.g. `JOURNEYD_STATE_DIR`, `JOURNEYD_LISTENERS__HTTP__ADDRESS`,
/// `JOURNEYD_LOGGING__LEVEL`.
public enum ConfigurationLoader {
    public static let environmentPrefix = "JOURNEYD_"

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> JourneydConfiguration
    {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadableFile(path: path, reason: systemErrorDescription(error))
        }
        var tree = try ConfigTree.parse(yaml: text)
        applyOverrides(from: environment, to: &tree)
        return try build(from: tree, isLocalDefaults: false)
    }

    /// The safe local defaults used when journeyd runs without `--config`: loopback listeners and
    /// a state directory under the working directory. The dev write key, admin token and TLS
    /// certificate are supplied by `LocalDevelopmentSetup`.
    public static func localDefaults(
        stateDirectory: String, writeKey: String, adminToken: String, tls: JourneydConfiguration.TLSFiles,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> JourneydConfiguration {
        var tree = ConfigTree.mapping([])
        tree.setScalar(stateDirectory, at: ["state_dir"])
        tree.setScalar(tls.certificatePath, at: ["tls", "certificate"])
        tree.setScalar(tls.privateKeyPath, at: ["tls", "private_key"])
        tree.setScalar(adminToken, at: ["listeners", "admin", "token"])
        tree = mergedSources(tree, name: "dev", channel: "web", writeKey: writeKey)
        applyOverrides(from: environment, to: &tree)
        return try build(from: tree, isLocalDefaults: true)
    }

    private static func mergedSources(_ tree: ConfigTree, name: String, channel: String, writeKey: String) -> ConfigTree {
        guard case .mapping(var pairs) = tree else { return tree }
        let source = ConfigTree.mapping([
            ("name", .scalar(name)), ("channel", .scalar(channel)), ("write_key", .scalar(writeKey)), ("stream_write_key", .scalar("true")),
        ])
        pairs.append(("sources", .sequence([source])))
        return .mapping(pairs)
    }

    static func applyOverrides(from environment: [String: String], to tree: inout ConfigTree) {
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(environmentPrefix) {
            let path = name.dropFirst(environmentPrefix.count).lowercased().components(separatedBy: "__")
            guard !path.contains(where: \.isEmpty) else { continue }
            tree.setScalar(value, at: path[...])
        }
    }

    static func build(from tree: ConfigTree, isLocalDefaults: Bool) throws(ConfigurationError) -> JourneydConfiguration {
        var root = try ConfigSection(tree, path: "")
        let stateDirectory = try root.string("state_dir") ?? "./journeyd-state"
        guard !stateDirectory.isEmpty else {
            throw .invalidValue(key: "state_dir", message: "must not be empty (leave the key out for ./journeyd-state)")
        }

        var tlsSection = try root.section("tls")
        let tls = JourneydConfiguration.TLSFiles(
            certificatePath: try tlsSection.requiredString("certificate"),
            privateKeyPath: try tlsSection.requiredString("private_key"),
            clientCAPath: try tlsSection.string("client_ca"))
        try tlsSection.finish()

        let listeners = try readListeners(try root.section("listeners"))
        let sources = try readSources(try root.list("sources"), key: root.keyPath("sources"))
        if tls.clientCAPath == nil, let index = sources.firstIndex(where: { $0.clientSubject != nil }) {
            throw .invalidValue(
                key: "sources[\(index)].client_subject",
                message: "needs tls.client_ca: client certificates are verified against that CA before their subject selects a source")
        }
        let durability = try root.choice("durability", JourneydConfiguration.Durability.self) ?? .fsync
        let durabilityInterval = try root.duration("durability_interval") ?? .milliseconds(200)
        guard durabilityInterval > .zero else {
            throw .invalidValue(key: "durability_interval", message: "must be more than 0")
        }

        var snapshotSection = try root.section("snapshots")
        let snapshots = JourneydConfiguration.Snapshots(
            interval: try snapshotSection.duration("interval") ?? .seconds(300),
            keep: try snapshotSection.int("keep", range: 1...100_000) ?? 24)
        try snapshotSection.finish()

        let identity = try readIdentity(try root.section("identity"))
        let phaseRules = PhaseRules(operatorRules: try readPhaseRules(try root.list("phases")))
        let limits = try readLimits(try root.section("limits"))
        let shutdownTimeout = try root.duration("shutdown_timeout") ?? .seconds(120)
        guard shutdownTimeout >= .seconds(1) else {
            throw .invalidValue(key: "shutdown_timeout", message: "must be at least 1s")
        }

        var journeys = try root.section("journeys")
        let maxTouchpoints = try journeys.int("max_touchpoints_per_profile", range: 1...10_000_000) ?? 10_000
        try journeys.finish()

        var loggingSection = try root.section("logging")
        var logging = JourneydConfiguration.Logging()
        logging.format = try loggingSection.choice("format", JourneydConfiguration.Logging.Format.self) ?? .logfmt
        logging.level = try loggingSection.choice("level", JourneydConfiguration.Logging.Level.self) ?? .info
        logging.statsInterval = try loggingSection.duration("stats_interval") ?? logging.statsInterval
        guard logging.statsInterval >= .seconds(1) else {
            throw .invalidValue(key: "logging.stats_interval", message: "must be at least 1s")
        }
        try loggingSection.finish()
        try root.finish()

        return JourneydConfiguration(
            stateDirectory: stateDirectory, tls: tls, listeners: listeners, sources: sources, durability: durability,
            durabilityInterval: durabilityInterval,
            snapshots: snapshots, identity: identity.policy, identifierRules: identity.rules,
            customIdentifiers: identity.custom, phaseRules: phaseRules, limits: limits,
            maxTouchpointsPerProfile: maxTouchpoints, logging: logging, shutdownTimeout: shutdownTimeout, isLocalDefaults: isLocalDefaults)
    }

    private static func readListeners(_ section: ConfigSection) throws(ConfigurationError) -> JourneydConfiguration.Listeners {
        var section = section
        func address(_ listener: inout ConfigSection, default defaultAddress: String) throws(ConfigurationError) -> ListenAddress {
            let text = try listener.string("address") ?? defaultAddress
            guard let address = ListenAddress(text) else {
                throw .invalidValue(key: listener.keyPath("address"), message: "expected host:port (IPv6 as [::1]:port), got \"\(text)\"")
            }
            return address
        }
        var httpSection = try section.section("http")
        let http = try address(&httpSection, default: "127.0.0.1:8443")
        try httpSection.finish()
        var streamSection = try section.section("stream")
        let stream = try address(&streamSection, default: "127.0.0.1:7443")
        try streamSection.finish()
        var adminSection = try section.section("admin")
        let admin = try address(&adminSection, default: "127.0.0.1:9090")
        let token: String
        let tokenKey: String
        if let file = try adminSection.string("token_file") {
            guard try adminSection.string("token") == nil else {
                throw .invalidValue(key: adminSection.keyPath("token_file"), message: "set token_file or token, not both")
            }
            tokenKey = adminSection.keyPath("token_file")
            token = try readSecret(file, key: tokenKey)
        } else if let inline = try adminSection.string("token") {
            tokenKey = adminSection.keyPath("token")
            token = inline.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw .missingKey(adminSection.keyPath("token_file"))
        }
        guard token.utf8.count >= 16 else {
            throw .invalidValue(key: tokenKey, message: "the admin token must be at least 16 characters")
        }
        let adminTLS = try adminSection.bool("tls") ?? false
        try adminSection.finish()
        try section.finish()
        return .init(http: http, stream: stream, admin: admin, adminToken: token, adminTLS: adminTLS)
    }

    private static func readSources(_ items: [(tree: ConfigTree, path: String)]?, key: String) throws(ConfigurationError)
        -> [JourneydConfiguration.Source]
    {
        guard let items, !items.isEmpty else {
            throw .invalidValue(key: key, message: "configure at least one source (name, channel, write_key or write_key_file)")
        }
        var sources: [JourneydConfiguration.Source] = []
        for item in items {
            var section = try ConfigSection(item.tree, path: item.path)
            let name = try section.requiredString("name")
            let channel = try section.requiredString("channel")
            for (field, value) in [("name", name), ("channel", channel)] where !isToken(value) {
                throw .invalidValue(key: section.keyPath(field), message: "use lower-case letters, digits, '_' and '-' only, got \"\(value)\"")
            }
            var writeKey = try section.string("write_key")
            var writeKeyField = "write_key"
            if let file = try section.string("write_key_file") {
                guard writeKey == nil else {
                    throw .invalidValue(key: section.keyPath("write_key_file"), message: "set write_key or write_key_file, not both")
                }
                writeKeyField = "write_key_file"
                writeKey = try readSecret(file, key: section.keyPath(writeKeyField))
            }
            var subject: ClientSubject?
            if let text = try section.string("client_subject") {
                guard let parsed = ClientSubject(text) else {
                    throw .invalidValue(
                        key: section.keyPath("client_subject"),
                        message: "expected a distinguished name such as \"CN=cc-exporter\" or \"CN=cc-exporter,O=Example\", got \"\(text)\"")
                }
                subject = parsed
            }
            guard writeKey != nil || subject != nil else {
                throw .missingKey(section.keyPath("write_key"))
            }
            let streamWriteKey = try section.bool("stream_write_key") ?? false
            if streamWriteKey && writeKey == nil {
                throw .invalidValue(key: section.keyPath("stream_write_key"), message: "needs write_key or write_key_file: it lets stream clients send that key as their first line")
            }
            if let writeKey, writeKey.isEmpty {
                throw .invalidValue(key: section.keyPath("write_key"), message: "the write key is empty")
            }
            if sources.contains(where: { $0.name == name }) {
                throw .invalidValue(key: section.keyPath("name"), message: "another source is already called \"\(name)\"")
            }
            if let writeKey, sources.contains(where: { $0.writeKey == writeKey }) {
                throw .invalidValue(key: section.keyPath(writeKeyField), message: "two sources share this write key")
            }
            if let subject, sources.contains(where: { $0.clientSubject == subject }) {
                throw .invalidValue(key: section.keyPath("client_subject"), message: "two sources share this client subject")
            }
            try section.finish()
            sources.append(.init(name: name, channel: channel, writeKey: writeKey, clientSubject: subject, streamWriteKey: streamWriteKey))
        }
        return sources
    }

    private static func readIdentity(_ section: ConfigSection) throws(ConfigurationError)
        -> (policy: IdentityPolicy, rules: JourneydConfiguration.IdentifierRules, custom: [CustomIdentifierPath])
    {
        var section = section
        var custom: [CustomIdentifierPath] = []
        for item in try section.list("custom") ?? [] {
            var entry = try ConfigSection(item.tree, path: item.path)
            let name = try entry.requiredString("type")
            let type = IdentifierType(rawValue: name)
            guard IdentifierType.isValidCustomName(name), !IdentifierType.builtIn.contains(type) else {
                throw .invalidValue(key: entry.keyPath("type"), message: "\"\(name)\" is not a usable custom type name (lower-case letters, digits, '_'; not a built-in type)")
            }
            guard !custom.contains(where: { $0.type == type }) else {
                throw .invalidValue(key: entry.keyPath("type"), message: "custom type \"\(name)\" is defined twice")
            }
            guard let paths = try entry.stringList("paths"), !paths.isEmpty else { throw .missingKey(entry.keyPath("paths")) }
            for path in paths where path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw .invalidValue(key: entry.keyPath("paths"), message: "\"\(path)\" is not a dotted JSON path such as traits.loyaltyId")
            }
            try entry.finish()
            custom.append(CustomIdentifierPath(type: type, paths: paths))
        }
        let limitsSection = try section.section("limits")
        let limits = try perType(limitsSection, zeroMeans: "unlimited")
        let thresholdsSection = try section.section("shared_threshold")
        let thresholds = try perType(thresholdsSection, zeroMeans: "never")
        let priority = try section.stringList("priority")?.map { IdentifierType(rawValue: $0) }
        let policy: IdentityPolicy
        do {
            policy = try IdentityPolicy(
                customTypes: custom.map(\.type), limitOverrides: limits, configuredPriority: priority, sharedThresholdOverrides: thresholds)
        } catch {
            let key: String
            switch error {
            case .unknownType(let type, _) where limits[type] != nil: key = limitsSection.keyPath(type.rawValue)
            case .unknownType(let type, _) where thresholds[type] != nil: key = thresholdsSection.keyPath(type.rawValue)
            case .sharedThresholdOnUserID: key = thresholdsSection.keyPath(IdentifierType.userID.rawValue)
            case .sharedThresholdTooLow(let type): key = thresholdsSection.keyPath(type.rawValue)
            default: key = section.keyPath("priority")
            }
            throw .invalidValue(key: key, message: error.description)
        }
        let blocklist = try section.stringList("blocklist") ?? []
        let countryCode = try section.string("default_country_code")
        if let countryCode, countryCode.isEmpty || countryCode.count > 4 || !countryCode.allSatisfy(\.isASCIIDigit) {
            throw .invalidValue(key: section.keyPath("default_country_code"), message: "expected 1–4 digits such as 44 or 1, got \"\(countryCode)\"")
        }
        try section.finish()
        return (policy, .init(blocklist: blocklist, defaultCountryCode: countryCode), custom)
    }

    /// A mapping of identifier type → whole number ≥ 0 (`identity.limits`, `identity.shared_threshold`).
    private static func perType(_ section: ConfigSection, zeroMeans meaning: String) throws(ConfigurationError) -> [IdentifierType: Int] {
        var section = section
        var values: [IdentifierType: Int] = [:]
        for (key, value) in section.entries() {
            guard case .scalar(let text) = value, let number = Int(text), number >= 0 else {
                throw .invalidValue(key: section.keyPath(key), message: "expected a whole number (0 = \(meaning))")
            }
            values[IdentifierType(rawValue: key)] = number
        }
        return values
    }

    private static func readPhaseRules(_ items: [(tree: ConfigTree, path: String)]?) throws(ConfigurationError) -> [PhaseRule] {
        var rules: [PhaseRule] = []
        for item in items ?? [] {
            var entry = try ConfigSection(item.tree, path: item.path)
            guard let phase = try entry.choice("phase", Phase.self) else { throw .missingKey(entry.keyPath("phase")) }
            let rule = PhaseRule(
                phase: phase, type: try entry.choice("type", EventType.self), event: try entry.string("event"),
                channel: try entry.string("channel"), properties: try readPropertyConditions(try entry.section("properties")))
            guard rule.type != nil || rule.event != nil || rule.channel != nil || !rule.properties.isEmpty else {
                throw .invalidValue(key: item.path, message: "a phase rule needs at least one of type, event, channel, properties")
            }
            try entry.finish()
            rules.append(rule)
        }
        return rules
    }

    /// `properties:` of a phase rule: dotted path → a value (equality) or one test
    /// (`{ ne: v }`, `{ in: [a, b] }`, `{ gt: n }`, `{ gte: n }`, `{ lt: n }`, `{ lte: n }`, `{ exists: true }`).
    private static func readPropertyConditions(_ section: ConfigSection) throws(ConfigurationError) -> [PropertyCondition] {
        var section = section
        var conditions: [PropertyCondition] = []
        for (key, value) in section.entries() {
            let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else {
                throw .invalidValue(key: section.keyPath(key), message: "\"\(key)\" is not a dotted property path such as order.total")
            }
            conditions.append(PropertyCondition(path: path, test: try propertyTest(value, key: section.keyPath(key))))
        }
        return conditions
    }

    private static func propertyTest(_ value: ConfigTree, key: String) throws(ConfigurationError) -> PropertyCondition.Test {
        let usage = "expected a value, or one of { ne: v }, { in: [a, b] }, { gt: n }, { gte: n }, { lt: n }, { lte: n }, { exists: true|false }"
        if case .scalar(let text) = value { return .equals(text) }
        if value == .null { return .equals("null") }
        var test = try ConfigSection(value, path: key)
        guard let operation = test.keys.first, test.keys.count == 1 else { throw .invalidValue(key: key, message: usage) }
        if operation == "in" { return .oneOf(try test.stringList("in") ?? []) }
        guard let operand = try test.string(operation) else { throw .invalidValue(key: key, message: usage) }
        switch operation {
        case "ne": return .notEquals(operand)
        case "exists":
            guard operand == "true" || operand == "false" else { throw .invalidValue(key: test.keyPath(operation), message: "expected true or false") }
            return .exists(operand == "true")
        case "gt", "gte", "lt", "lte":
            guard let number = Double(operand) else { throw .invalidValue(key: test.keyPath(operation), message: "expected a number") }
            switch operation {
            case "gt": return .greaterThan(number)
            case "gte": return .atLeast(number)
            case "lt": return .lessThan(number)
            default: return .atMost(number)
            }
        default: throw .invalidValue(key: key, message: usage)
        }
    }

    private static func readLimits(_ section: ConfigSection) throws(ConfigurationError) -> JourneydConfiguration.Limits {
        var section = section
        var limits = JourneydConfiguration.Limits()
        limits.eventBytes = try section.byteSize("event_bytes", range: 256...(16 << 20)) ?? limits.eventBytes
        limits.batchBytes = try section.byteSize("batch_bytes", range: 1024...(256 << 20)) ?? limits.batchBytes
        limits.batchEvents = try section.int("batch_events", range: 1...1_000_000) ?? limits.batchEvents
        limits.lineBytes = try section.byteSize("line_bytes", range: 256...(16 << 20)) ?? limits.lineBytes
        limits.maxConnections = try section.int("max_connections", range: 1...1_000_000) ?? limits.maxConnections
        limits.idleTimeout = try section.duration("idle_timeout") ?? limits.idleTimeout
        limits.handshakeTimeout = try section.duration("handshake_timeout") ?? limits.handshakeTimeout
        guard limits.handshakeTimeout > .zero else {
            throw .invalidValue(key: section.keyPath("handshake_timeout"), message: "must be more than 0")
        }
        limits.maxPendingRequests = try section.int("max_pending_requests", range: 1...1_000_000) ?? limits.maxPendingRequests
        guard limits.eventBytes <= limits.batchBytes else {
            throw .invalidValue(key: section.keyPath("event_bytes"), message: "must not exceed limits.batch_bytes")
        }
        try section.finish()
        return limits
    }

    private static func readSecret(_ path: String, key: String) throws(ConfigurationError) -> String {
        do {
            let secret = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw ConfigurationError.invalidValue(key: key, message: "\(path) is empty") }
            return secret
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw .invalidValue(key: key, message: "cannot read \(path): \(systemErrorDescription(error))")
        }
    }

    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
