import Foundation
import JourneyCore
import Testing

@testable import JourneyServer

/// A private temp directory holding config and secret files for one test.
final class ConfigFixture {
    let directory: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/journeyd-config-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil, "mkdtemp failed")
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try #require(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)), "cannot write \(path)")
        return path
    }

    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigurationError) -> JourneydConfiguration {
        let path: String
        do { path = try write("journeyd.yaml", yaml) } catch { preconditionFailure("cannot write the config: \(error)") }
        return try ConfigurationLoader.load(path: path, environment: environment)
    }

    /// The error loading `yaml` gives, recording an issue when it loads.
    func error(_ yaml: String, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) -> ConfigurationError? {
        do {
            _ = try load(yaml, environment: environment)
            Issue.record("the config loaded, expected an error:\n\(yaml)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }
}

/// A complete config in block style; `#MARKER` comment lines are where tests splice extra lines in.
enum ConfigText {
    static let base = """
        state_dir: /srv/journeyd-test
        #TOP
        tls:
          certificate: /etc/journeyd/server.crt
          private_key: /etc/journeyd/server.key
          #TLS
        listeners:
          http:
            address: "127.0.0.1:8443"
            #HTTP
          stream:
            address: "127.0.0.1:7443"
            #STREAM
          admin:
            address: "127.0.0.1:9090"
            token: "0123456789abcdef"
            #ADMIN
          #LISTENERS
        sources:
          - name: website
            channel: web
            write_key: key-one
            #SOURCE
          #SOURCES
        snapshots:
          interval: 5m
          #SNAPSHOTS
        identity:
          limits:
            user_id: 1
            #IDLIMITS
          custom:
            - type: loyalty_id
              paths: [traits.loyaltyId]
              #CUSTOM
          #IDENTITY
        phases:
          - phase: buy
            event: Order Completed
            #PHASE
        limits:
          event_bytes: 32KB
          #LIMITS
        journeys:
          max_touchpoints_per_profile: 100
          #JOURNEYS
        logging:
          format: logfmt
          #LOGGING
        """

    /// `base` with `#MARKER` lines replaced (the replacement keeps the marker's indentation)
    /// and `key: value` lines whose key is in `removing` (with that indentation) dropped.
    static func with(_ replacements: [String: String] = [:], replacing: [String: String] = [:]) -> String {
        var lines: [String] = []
        for line in base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = String(line.prefix { $0 == " " })
            if trimmed.hasPrefix("#"), let replacement = replacements[String(trimmed.dropFirst())] {
                lines += replacement.split(separator: "\n").map { indent + $0 }
            } else if let colon = trimmed.firstIndex(of: ":"), let replacement = replacing[indent + String(trimmed[..<colon])] {
                if !replacement.isEmpty { lines.append(indent + replacement) }
            } else {
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The smallest config that loads.
    static let minimal = """
        tls: { certificate: /c.crt, private_key: /c.key }
        listeners: { admin: { token: "0123456789abcdef" } }
        sources: [ { name: web, channel: web, write_key: k1 } ]
        """
}

@Suite("ConfigurationLoader")
struct ConfigurationLoaderTests {
    // MARK: - Complete and minimal files

    @Test("a full config sets every field")
    func fullConfig() throws {
        let fixture = try ConfigFixture()
        let keyFile = try fixture.write("cc.key", "  call-centre-key \n\n")
        let tokenFile = try fixture.write("admin.token", "\tadmin-token-0123456789\r\n")
        let configuration = try fixture.load(
            """
            state_dir: /var/lib/journeyd
            tls:
              certificate: /etc/journeyd/tls/server.crt
              private_key: /etc/journeyd/tls/server.key
              client_ca: /etc/journeyd/tls/clients-ca.crt
            listeners:
              http:   { address: "0.0.0.0:8443" }
              stream: { address: "[::]:7443" }
              admin:  { address: "127.0.0.1:9091", token_file: \(tokenFile), tls: true }
            sources:
              - { name: website,     channel: web,         write_key: "website-key" }
              - { name: call-centre, channel: call_center, write_key_file: \(keyFile),
                  client_subject: "CN=cc-exporter" }
              - { name: store-feed,  channel: store,       client_subject: "CN=store,O=Shop" }
            durability: interval
            snapshots: { interval: 10m, keep: 48 }
            identity:
              limits:   { user_id: 2, email: 7, loyalty_id: 4, device_id: 0 }
              shared_threshold: { device_id: 3, anonymous_id: 0 }
              priority: [email, user_id, loyalty_id, phone, device_id, anonymous_id]
              custom:
                - { type: loyalty_id, paths: [traits.loyaltyId, properties.loyalty_id] }
                - { type: crm_id, paths: [context.traits.crmId] }
              blocklist: ["guest-user", "N/A-CUSTOMER"]
              default_country_code: "44"
            phases:
              - { phase: buy, event: "Order Completed" }
              - { phase: ask, channel: call_center }
              - { phase: engage, type: identify }
              - { phase: buy, event: "Subscription *", properties: { plan: { in: [pro, team] }, seats: { gte: 2 }, trial: false } }
            limits:
              event_bytes: 64KiB
              batch_bytes: 1MB
              batch_events: 1000
              line_bytes: 16KiB
              max_connections: 500
              idle_timeout: 90s
            journeys:
              max_touchpoints_per_profile: 2500
            logging:
              format: json
              level: debug
            """)

        #expect(configuration.stateDirectory == "/var/lib/journeyd")
        #expect(configuration.tls.certificatePath == "/etc/journeyd/tls/server.crt")
        #expect(configuration.tls.privateKeyPath == "/etc/journeyd/tls/server.key")
        #expect(configuration.tls.clientCAPath == "/etc/journeyd/tls/clients-ca.crt")

        #expect(configuration.listeners.http == ListenAddress(host: "0.0.0.0", port: 8443))
        #expect(configuration.listeners.stream == ListenAddress(host: "::", port: 7443))
        #expect(configuration.listeners.admin == ListenAddress(host: "127.0.0.1", port: 9091))
        #expect(configuration.listeners.adminToken == "admin-token-0123456789")
        #expect(configuration.listeners.adminTLS == true)

        #expect(configuration.sources == [
            .init(name: "website", channel: "web", writeKey: "website-key", clientSubject: nil),
            .init(name: "call-centre", channel: "call_center", writeKey: "call-centre-key", clientSubject: ClientSubject("CN=cc-exporter")),
            .init(name: "store-feed", channel: "store", writeKey: nil, clientSubject: ClientSubject("CN=store,O=Shop")),
        ])
        #expect(configuration.source(forWriteKey: "call-centre-key")?.name == "call-centre")
        #expect(configuration.source(forWriteKey: "  call-centre-key ") == nil)
        #expect(configuration.source(forClientSubject: ClientSubject("cn = store , o=Shop")!)?.name == "store-feed")
        #expect(configuration.source(forClientSubject: ClientSubject("CN=store,O=shop")!) == nil)

        #expect(configuration.durability == .interval)
        #expect(configuration.snapshots == .init(interval: .seconds(600), keep: 48))

        let identity = configuration.identity
        #expect(identity.limit(for: .userID) == 2)
        #expect(identity.limit(for: .email) == 7)
        #expect(identity.limit(for: .phone) == 5)
        #expect(identity.limit(for: IdentifierType(rawValue: "loyalty_id")) == 4)
        #expect(identity.limit(for: IdentifierType(rawValue: "crm_id")) == 3)
        #expect(identity.limit(for: .deviceID) == nil)
        #expect(identity.sharedThreshold(for: .deviceID) == 3)
        #expect(identity.sharedThreshold(for: .anonymousID) == nil)
        #expect(identity.sharedThreshold(for: .email) == 5)
        #expect(identity.priority.map(\.rawValue) == ["email", "user_id", "loyalty_id", "phone", "device_id", "anonymous_id", "crm_id"])
        #expect(configuration.customIdentifiers == [
            CustomIdentifierPath(type: IdentifierType(rawValue: "loyalty_id"), paths: ["traits.loyaltyId", "properties.loyalty_id"]),
            CustomIdentifierPath(type: IdentifierType(rawValue: "crm_id"), paths: ["context.traits.crmId"]),
        ])
        let normaliser = configuration.identifierNormaliser
        #expect(normaliser.normalise(" Guest-User ", as: .userID) == nil)
        #expect(normaliser.normalise("n/a-customer", as: .userID) == nil)
        #expect(normaliser.normalise("null", as: .userID) == nil, "the built-in blocklist still applies")
        #expect(normaliser.normalise("u-1", as: .userID)?.value == "u-1")
        #expect(normaliser.normalise("07700 900123", as: .phone)?.value == "+447700900123")

        #expect(Array(configuration.phaseRules.rules.prefix(4)) == [
            PhaseRule(phase: .buy, event: "Order Completed"),
            PhaseRule(phase: .ask, channel: "call_center"),
            PhaseRule(phase: .engage, type: .identify),
            PhaseRule(
                phase: .buy, event: "Subscription *",
                properties: [
                    PropertyCondition(path: ["plan"], test: .oneOf(["pro", "team"])), PropertyCondition(path: ["seats"], test: .atLeast(2)),
                    PropertyCondition(path: ["trial"], test: .equals("false")),
                ]),
        ])
        #expect(configuration.phaseRules.rules[3].event?.isGlob == true)
        #expect(configuration.phaseRules.rules.count == 4 + PhaseRules.builtIn.count)

        var limits = JourneydConfiguration.Limits()
        limits.eventBytes = 65_536
        limits.batchBytes = 1_000_000
        limits.batchEvents = 1000
        limits.lineBytes = 16_384
        limits.maxConnections = 500
        limits.idleTimeout = .seconds(90)
        #expect(configuration.limits == limits)
        #expect(configuration.maxTouchpointsPerProfile == 2500)
        #expect(configuration.logging == .init(format: .json, level: .debug))
        #expect(configuration.isLocalDefaults == false)
    }

    @Test("the shipped sample config/journeyd.yaml loads")
    func sampleConfig() throws {
        let fixture = try ConfigFixture()
        let tokenFile = try fixture.write("admin.token", "sample-admin-token-0123456789\n")
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/journeyd.yaml").path
        let configuration = try ConfigurationLoader.load(
            path: sample, environment: ["JOURNEYD_LISTENERS__ADMIN__TOKEN_FILE": tokenFile])
        #expect(configuration.stateDirectory == "/var/lib/journeyd")
        #expect(configuration.listeners.adminToken == "sample-admin-token-0123456789")
        #expect(configuration.sources.count == 3)
        #expect(configuration.limits == JourneydConfiguration.Limits(eventBytes: 32_000, batchBytes: 500_000))
    }

    @Test("absent keys take their defaults")
    func defaults() throws {
        let configuration = try ConfigFixture().load(ConfigText.minimal)
        #expect(configuration.stateDirectory == "./journeyd-state")
        #expect(configuration.tls == .init(certificatePath: "/c.crt", privateKeyPath: "/c.key", clientCAPath: nil))
        #expect(configuration.listeners.http == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(configuration.listeners.stream == ListenAddress(host: "127.0.0.1", port: 7443))
        #expect(configuration.listeners.admin == ListenAddress(host: "127.0.0.1", port: 9090))
        #expect(configuration.listeners.adminToken == "0123456789abcdef")
        #expect(configuration.listeners.adminTLS == false)
        #expect(configuration.sources == [.init(name: "web", channel: "web", writeKey: "k1", clientSubject: nil)])
        #expect(configuration.durability == .fsync)
        #expect(configuration.snapshots == .init(interval: .seconds(300), keep: 24))
        #expect(configuration.identity == (try IdentityPolicy()))
        #expect(configuration.identity.priority == [.userID, .email, .phone, .deviceID, .anonymousID])
        #expect(configuration.identity.limits == [.userID: 1, .email: 5, .phone: 5])
        #expect(configuration.customIdentifiers.isEmpty)
        #expect(configuration.identifierNormaliser.normalise("07700 900123", as: .phone)?.value == "07700900123")
        #expect(configuration.phaseRules.rules == PhaseRules.builtIn)
        #expect(configuration.limits == JourneydConfiguration.Limits())
        #expect(configuration.limits.eventBytes == 32 * 1024)
        #expect(configuration.limits.batchBytes == 500 * 1024)
        #expect(configuration.limits.batchEvents == 2500)
        #expect(configuration.limits.lineBytes == 32 * 1024)
        #expect(configuration.limits.maxConnections == 10_000)
        #expect(configuration.limits.idleTimeout == .seconds(60))
        #expect(configuration.maxTouchpointsPerProfile == 10_000)
        #expect(configuration.logging == .init(format: .logfmt, level: .info))
        #expect(configuration.isLocalDefaults == false)
    }

    @Test("null values and empty sections mean 'use the default'")
    func nullsAreDefaults() throws {
        let configuration = try ConfigFixture().load(
            ConfigText.minimal + "\nstate_dir: ~\nsnapshots:\nlimits: {}\nlogging: { level: null }\ndurability:\n")
        #expect(configuration.stateDirectory == "./journeyd-state")
        #expect(configuration.snapshots == .init(interval: .seconds(300), keep: 24))
        #expect(configuration.limits == JourneydConfiguration.Limits())
        #expect(configuration.logging.level == .info)
        #expect(configuration.durability == .fsync)
    }

    @Test("the base fixture loads as written")
    func baseFixtureLoads() throws {
        let configuration = try ConfigFixture().load(ConfigText.with())
        #expect(configuration.stateDirectory == "/srv/journeyd-test")
        #expect(configuration.limits.eventBytes == 32_000)
        #expect(configuration.maxTouchpointsPerProfile == 100)
        #expect(configuration.customIdentifiers.map(\.type.rawValue) == ["loyalty_id"])
    }

    // MARK: - Unknown keys

    struct Placed: Sendable, CustomTestStringConvertible {
        var marker: String
        var line: String
        var key: String
        var testDescription: String { key }
    }

    @Test("an unknown key is refused at every level, named by its path", arguments: [
        Placed(marker: "TOP", line: "colour: red", key: "colour"),
        Placed(marker: "TOP", line: "snapshot: { keep: 1 }", key: "snapshot"),
        Placed(marker: "TLS", line: "ca: /x.crt", key: "tls.ca"),
        Placed(marker: "HTTP", line: "port: 1", key: "listeners.http.port"),
        Placed(marker: "STREAM", line: "tls: true", key: "listeners.stream.tls"),
        Placed(marker: "ADMIN", line: "tokn: x", key: "listeners.admin.tokn"),
        Placed(marker: "LISTENERS", line: "https: { address: \"0.0.0.0:1\" }", key: "listeners.https"),
        Placed(marker: "SOURCE", line: "writekey: x", key: "sources[0].writekey"),
        Placed(marker: "SOURCES", line: "- { name: b, channel: web, write_key: k2, chanel: x }", key: "sources[1].chanel"),
        Placed(marker: "SNAPSHOTS", line: "every: 1h", key: "snapshots.every"),
        Placed(marker: "CUSTOM", line: "path: a.b", key: "identity.custom[0].path"),
        Placed(marker: "IDENTITY", line: "prority: [email]", key: "identity.prority"),
        Placed(marker: "PHASE", line: "events: x", key: "phases[0].events"),
        Placed(marker: "LIMITS", line: "event_size: 1", key: "limits.event_size"),
        Placed(marker: "JOURNEYS", line: "max: 1", key: "journeys.max"),
        Placed(marker: "LOGGING", line: "colour: no", key: "logging.colour"),
    ])
    func unknownKeys(placed: Placed) throws {
        let error = try #require(try ConfigFixture().error(ConfigText.with([placed.marker: placed.line])))
        guard case .unknownKey(let key, let allowed) = error else {
            Issue.record("expected unknownKey, got \(error)")
            return
        }
        #expect(key == placed.key)
        #expect(error.key == placed.key)
        #expect(error.description.hasPrefix(placed.key + ": unknown key"))
        #expect(!allowed.isEmpty)
        #expect(allowed == allowed.sorted())
        #expect(!allowed.contains(String(placed.key.split(separator: ".").last!)))
    }

    @Test("the unknown-key error lists the keys allowed there")
    func allowedKeys() throws {
        let error = try #require(try ConfigFixture().error(ConfigText.with(["TLS": "ca: /x.crt"])))
        #expect(error == .unknownKey("tls.ca", allowed: ["certificate", "client_ca", "private_key"]))
        let top = try #require(try ConfigFixture().error(ConfigText.with(["TOP": "colour: red"])))
        guard case .unknownKey(_, let allowed) = top else {
            Issue.record("expected unknownKey, got \(top)")
            return
        }
        let sections: Set = ["durability", "identity", "journeys", "limits", "listeners", "logging", "phases", "snapshots", "sources", "state_dir", "tls"]
        #expect(sections.isSubset(of: allowed), "\(allowed)")
        #expect(!allowed.contains("colour"))
    }

    // MARK: - Wrong types and values

    struct Bad: Sendable, CustomTestStringConvertible {
        enum Kind: Sendable { case invalid, missing }
        var replacements: [String: String] = [:]
        var replacing: [String: String] = [:]
        var kind: Kind = .invalid
        var key: String
        var testDescription: String { "\(key) \(replacements.values.sorted()) \(replacing.values.sorted())" }
    }

    @Test("wrong types and bad values are refused, naming the key", arguments: [
        Bad(replacing: ["state_dir": "state_dir: [a, b]"], key: "state_dir"),
        Bad(replacing: ["state_dir": "state_dir: { path: /x }"], key: "state_dir"),
        Bad(replacing: ["state_dir": #"state_dir: """#], key: "state_dir"),
        Bad(replacing: ["tls": "tls: /etc/journeyd/tls", "  certificate": "", "  private_key": "", "  #TLS": ""], key: "tls"),
        Bad(replacing: ["  private_key": ""], kind: .missing, key: "tls.private_key"),
        Bad(replacing: ["  certificate": "certificate: [a.crt, b.crt]"], key: "tls.certificate"),
        Bad(replacing: ["    address": "address: 8443"], key: "listeners.http.address"),
        Bad(replacements: ["ADMIN": "tls: maybe"], key: "listeners.admin.tls"),
        Bad(replacing: ["sources": "sources: { name: website }", "  - name": "", "    channel": "", "    write_key": ""], key: "sources"),
        Bad(replacing: ["sources": "sources: []", "  - name": "", "    channel": "", "    write_key": ""], key: "sources"),
        Bad(replacing: ["sources": "sources:", "  - name": "", "    channel": "", "    write_key": ""], key: "sources"),
        Bad(replacing: ["  - name": "- name: Web Site"], key: "sources[0].name"),
        Bad(replacing: ["    channel": "channel: Web"], key: "sources[0].channel"),
        Bad(replacing: ["    channel": ""], kind: .missing, key: "sources[0].channel"),
        Bad(replacing: ["    write_key": #"write_key: """#], key: "sources[0].write_key"),
        Bad(replacing: ["    write_key": ""], kind: .missing, key: "sources[0].write_key"),
        Bad(replacements: ["SOURCES": "- just-a-string"], key: "sources[1]"),
        Bad(replacements: ["TOP": "durability: sometimes"], key: "durability"),
        Bad(replacements: ["SNAPSHOTS": "keep: many"], key: "snapshots.keep"),
        Bad(replacements: ["SNAPSHOTS": "keep: 0"], key: "snapshots.keep"),
        Bad(replacing: ["  interval": "interval: soon"], key: "snapshots.interval"),
        Bad(replacements: ["IDLIMITS": "email: lots"], key: "identity.limits.email"),
        Bad(replacements: ["IDLIMITS": "email: -1"], key: "identity.limits.email"),
        Bad(replacements: ["IDLIMITS": "email: [1]"], key: "identity.limits.email"),
        Bad(replacing: ["  limits": "limits: 5", "    user_id": "", "    #IDLIMITS": ""], key: "identity.limits"),
        Bad(replacements: ["IDENTITY": "priority: email"], key: "identity.priority"),
        Bad(replacements: ["IDENTITY": "shared_threshold: { device_id: two }"], key: "identity.shared_threshold.device_id"),
        Bad(replacements: ["IDENTITY": "shared_threshold: { device_id: 1 }"], key: "identity.shared_threshold.device_id"),
        Bad(replacements: ["IDENTITY": "shared_threshold: { user_id: 5 }"], key: "identity.shared_threshold.user_id"),
        Bad(replacements: ["IDENTITY": "shared_threshold: { fax: 5 }"], key: "identity.shared_threshold.fax"),
        Bad(replacements: ["IDENTITY": "blocklist: [[a]]"], key: "identity.blocklist[0]"),
        Bad(replacing: ["  custom": "custom: loyalty_id", "    - type": "", "      paths": ""], key: "identity.custom"),
        Bad(replacements: ["IDENTITY": "blocklist: guest"], key: "identity.blocklist"),
        Bad(replacing: ["  - phase": "- phase: shop"], key: "phases[0].phase"),
        Bad(replacements: ["PHASE": "type: click"], key: "phases[0].type"),
        Bad(replacements: ["PHASE": "properties: { total: { gt: lots } }"], key: "phases[0].properties.total.gt"),
        Bad(replacements: ["PHASE": "properties: { total: { between: [1, 2] } }"], key: "phases[0].properties.total.between"),
        Bad(replacements: ["PHASE": "properties: { total: { between: 1 } }"], key: "phases[0].properties.total"),
        Bad(replacements: ["PHASE": "properties: { total: { gt: 1, lt: 5 } }"], key: "phases[0].properties.total"),
        Bad(replacements: ["PHASE": "properties: { coupon: { exists: maybe } }"], key: "phases[0].properties.coupon.exists"),
        Bad(replacements: ["PHASE": "properties: { a..b: 1 }"], key: "phases[0].properties.a..b"),
        Bad(replacements: ["PHASE": "properties: [total]"], key: "phases[0].properties"),
        Bad(replacing: ["    event": ""], key: "phases[0]"),
        Bad(replacing: ["  - phase": "- event: Order Completed", "    event": ""], kind: .missing, key: "phases[0].phase"),
        Bad(replacements: ["LIMITS": "batch_events: 0"], key: "limits.batch_events"),
        Bad(replacements: ["LIMITS": "max_connections: 1.5"], key: "limits.max_connections"),
        Bad(replacements: ["LIMITS": "idle_timeout: 5 minutes"], key: "limits.idle_timeout"),
        Bad(replacements: ["LIMITS": "handshake_timeout: 0s"], key: "limits.handshake_timeout"),
        Bad(replacements: ["SOURCE": "client_subject: cc-exporter"], key: "sources[0].client_subject"),
        Bad(replacements: ["SOURCE": "client_subject: CN=cc-exporter"], key: "sources[0].client_subject"),
        Bad(replacements: ["SOURCE": "stream_write_key: maybe"], key: "sources[0].stream_write_key"),
        Bad(replacing: ["    write_key": "client_subject: CN=x"], key: "sources[0].client_subject"),
        Bad(replacements: ["TLS": "client_ca: /etc/ca.crt", "SOURCES": "- { name: b, channel: web, client_subject: CN=b, stream_write_key: true }"],
            key: "sources[1].stream_write_key"),
        Bad(
            replacements: ["TLS": "client_ca: /etc/ca.crt", "SOURCE": "client_subject: CN=a",
                "SOURCES": "- { name: b, channel: web, write_key: k2, client_subject: \"cn=a\" }"],
            key: "sources[1].client_subject"),
        Bad(replacements: ["LIMITS": "batch_bytes: 16KB"], key: "limits.event_bytes"),
        Bad(replacing: ["  max_touchpoints_per_profile": "max_touchpoints_per_profile: yes"], key: "journeys.max_touchpoints_per_profile"),
        Bad(replacing: ["  format": "format: xml"], key: "logging.format"),
        Bad(replacements: ["LOGGING": "level: loud"], key: "logging.level"),
        Bad(replacements: ["LOGGING": "stats_interval: 500ms"], key: "logging.stats_interval"),
        Bad(replacements: ["TOP": "shutdown_timeout: 0s"], key: "shutdown_timeout"),
        Bad(replacing: ["logging": "logging: [json]", "  format": ""], key: "logging"),
    ])
    func badValues(bad: Bad) throws {
        let yaml = ConfigText.with(bad.replacements, replacing: bad.replacing)
        let error = try #require(try ConfigFixture().error(yaml))
        switch (bad.kind, error) {
        case (.invalid, .invalidValue(let key, let message)):
            #expect(key == bad.key, "\(error)")
            #expect(!message.isEmpty)
        case (.missing, .missingKey(let key)):
            #expect(key == bad.key, "\(error)")
        default:
            Issue.record("expected \(bad.kind) for \(bad.key), got \(error)\n\(yaml)")
        }
        #expect(error.description.hasPrefix(bad.key + ": "), "\(error.description)")
    }

    @Test("a scalar or a list as the whole document is refused")
    func wrongDocumentShape() throws {
        let fixture = try ConfigFixture()
        #expect(try #require(fixture.error("just some text")) == .invalidValue(key: "(top level)", message: "expected a mapping of keys to values"))
        #expect(try #require(fixture.error("- a\n- b")).key == "(top level)")
    }

    // MARK: - Durations and sizes

    @Test("durations take ms, s, m, h, d or bare seconds", arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("60s", .seconds(60)),
        ("5m", .seconds(300)),
        ("2h", .seconds(7200)),
        ("7d", .seconds(604_800)),
        ("90", .seconds(90)),
        ("0", .zero),
        ("0ms", .zero),
        ("1500ms", .milliseconds(1500)),
    ])
    func durations(text: String, expected: Duration) throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load(ConfigText.with(replacing: ["  interval": "interval: \"\(text)\""]))
        #expect(configuration.snapshots.interval == expected)
        let idle = try fixture.load(ConfigText.with(["LIMITS": "idle_timeout: \(text)"]))
        #expect(idle.limits.idleTimeout == expected)
        #expect(ConfigUnits.duration(text) == expected)
    }

    @Test("malformed durations are refused", arguments: [
        "5 m", "1.5h", "-1s", "-5", "5w", "m", "ms", "s5", "5M", "5S", "five", "1h30m", "99999999999999999d", "9223372036854775807ms5",
        "106751991167301d",
    ])
    func badDurations(text: String) throws {
        #expect(ConfigUnits.duration(text) == nil)
        let error = try #require(try ConfigFixture().error(ConfigText.with(["LIMITS": "idle_timeout: \"\(text)\""])))
        #expect(error.key == "limits.idle_timeout")
    }

    @Test("sizes take bytes or KB/MB (1000) and KiB/MiB (1024)", arguments: [
        ("event_bytes", "32768", 32_768),
        ("event_bytes", "32KiB", 32_768),
        ("event_bytes", "32 KiB", 32_768),
        ("event_bytes", "32KB", 32_000),
        ("event_bytes", "512B", 512),
        ("event_bytes", "256", 256),
        ("batch_bytes", "500KB", 500_000),
        ("batch_bytes", "1MiB", 1_048_576),
        ("batch_bytes", "2MB", 2_000_000),
        ("line_bytes", "16MiB", 16 << 20),
    ])
    func sizes(key: String, text: String, expected: Int) throws {
        let configuration = try ConfigFixture().load(ConfigText.with(["LIMITS": "\(key): \(text)"], replacing: ["  event_bytes": key == "event_bytes" ? "" : "event_bytes: 1KiB"]))
        let value = switch key {
        case "event_bytes": configuration.limits.eventBytes
        case "batch_bytes": configuration.limits.batchBytes
        default: configuration.limits.lineBytes
        }
        #expect(value == expected)
        #expect(ConfigUnits.byteSize(text) == expected)
    }

    @Test("malformed or out-of-range sizes are refused", arguments: [
        "32kb", "32K", "32kib", "1.5MiB", "KiB", "-1KiB", "-32768", "255", "17MiB", "1GiB", "lots", "", "99999999999999999GiB", "9007199254740993KiB",
    ])
    func badSizes(text: String) throws {
        let error = try #require(try ConfigFixture().error(ConfigText.with(replacing: ["  event_bytes": "event_bytes: \"\(text)\""])))
        #expect(error.key == "limits.event_bytes", "\(error)")
    }

    // MARK: - Environment overrides

    @Test("environment overrides win over the file")
    func environmentOverrides() throws {
        let configuration = try ConfigFixture().load(
            ConfigText.with(["LIMITS": "line_bytes: 8KiB"]),
            environment: [
                "JOURNEYD_STATE_DIR": "/from/env",
                "JOURNEYD_LISTENERS__HTTP__ADDRESS": "127.0.0.1:18443",
                "JOURNEYD_LIMITS__EVENT_BYTES": "64KiB",
                "JOURNEYD_LOGGING__LEVEL": "debug",
                "JOURNEYD_LISTENERS__ADMIN__TOKEN": "env-admin-token-0123456789",
                "HOME": "/root", "PATH": "/usr/bin", "journeyd_state_dir": "/lower/case/is/not/ours",
            ])
        #expect(configuration.stateDirectory == "/from/env")
        #expect(configuration.listeners.http == ListenAddress(host: "127.0.0.1", port: 18443))
        #expect(configuration.listeners.stream == ListenAddress(host: "127.0.0.1", port: 7443), "only the named key changes")
        #expect(configuration.limits.eventBytes == 65_536)
        #expect(configuration.limits.lineBytes == 8192, "keys the environment does not name keep their file values")
        #expect(configuration.logging.level == .debug)
        #expect(configuration.logging.format == .logfmt)
        #expect(configuration.listeners.adminToken == "env-admin-token-0123456789")
    }

    @Test("an override creates sections the file leaves out")
    func environmentCreatesSections() throws {
        let configuration = try ConfigFixture().load(
            ConfigText.minimal,
            environment: ["JOURNEYD_LIMITS__EVENT_BYTES": "1KiB", "JOURNEYD_LISTENERS__STREAM__ADDRESS": "[::1]:0", "JOURNEYD_SNAPSHOTS__KEEP": "3"])
        #expect(configuration.limits.eventBytes == 1024)
        #expect(configuration.limits.batchBytes == 500 * 1024)
        #expect(configuration.listeners.stream == ListenAddress(host: "::1", port: 0))
        #expect(configuration.snapshots.keep == 3)
    }

    @Test("bad override values and unknown override keys are named like file keys")
    func environmentErrors() throws {
        let fixture = try ConfigFixture()
        #expect(try #require(fixture.error(ConfigText.minimal, environment: ["JOURNEYD_LIMITS__EVENT_BYTES": "huge"])).key == "limits.event_bytes")
        #expect(try #require(fixture.error(ConfigText.minimal, environment: ["JOURNEYD_LISTENERS__HTTP__ADDRESS": "nowhere"])).key == "listeners.http.address")
        #expect(try #require(fixture.error(ConfigText.minimal, environment: ["JOURNEYD_LIMITS__EVENT_BITES": "1KiB"])) == .unknownKey(
            "limits.event_bites", allowed: [
                "batch_bytes", "batch_events", "event_bytes", "handshake_timeout", "idle_timeout", "line_bytes", "max_connections",
                "max_pending_requests",
            ]))
        #expect(try #require(fixture.error(ConfigText.minimal, environment: ["JOURNEYD_STATE_DIR": ""])).key == "state_dir")
        // Names with an empty path segment are not overrides at all.
        _ = try fixture.load(ConfigText.minimal, environment: ["JOURNEYD_LIMITS____EVENT_BYTES": "x", "JOURNEYD_": "x", "JOURNEYD___X": "y"])
    }

    // MARK: - Secrets

    @Test("write_key_file and token_file are read and trimmed")
    func secretFiles() throws {
        let fixture = try ConfigFixture()
        let keyFile = try fixture.write("write.key", "\n  \tkey-from-file \r\n\n")
        let tokenFile = try fixture.write("admin.token", "   token-from-file-0123456789   \n")
        let configuration = try fixture.load(
            ConfigText.with(
                ["ADMIN": "token_file: \(tokenFile)"], replacing: ["    token": "", "    write_key": "write_key_file: \(keyFile)"]))
        #expect(configuration.sources[0].writeKey == "key-from-file")
        #expect(configuration.listeners.adminToken == "token-from-file-0123456789")
        #expect(configuration.source(forWriteKey: "key-from-file")?.name == "website")
    }

    @Test("an inline admin token is trimmed too")
    func inlineTokenTrimmed() throws {
        let configuration = try ConfigFixture().load(ConfigText.with(replacing: ["    token": #"token: "  0123456789abcdef\n""#]))
        #expect(configuration.listeners.adminToken == "0123456789abcdef")
    }

    @Test("missing or empty secret files are refused, naming the key and the file")
    func badSecretFiles() throws {
        let fixture = try ConfigFixture()
        let empty = try fixture.write("empty.key", " \n\t\n")
        let missing = fixture.directory + "/no-such.key"

        let emptyKey = try #require(fixture.error(ConfigText.with(replacing: ["    write_key": "write_key_file: \(empty)"])))
        #expect(emptyKey.key == "sources[0].write_key_file")
        #expect(emptyKey.description.contains(empty))
        let missingKey = try #require(fixture.error(ConfigText.with(replacing: ["    write_key": "write_key_file: \(missing)"])))
        #expect(missingKey.key == "sources[0].write_key_file")
        #expect(missingKey.description.contains(missing))

        let emptyToken = try #require(fixture.error(ConfigText.with(["ADMIN": "token_file: \(empty)"], replacing: ["    token": ""])))
        #expect(emptyToken.key == "listeners.admin.token_file")
        let missingToken = try #require(fixture.error(ConfigText.with(["ADMIN": "token_file: \(missing)"], replacing: ["    token": ""])))
        #expect(missingToken.key == "listeners.admin.token_file")
        #expect(missingToken.description.contains(missing))
    }

    @Test("write_key and write_key_file together are refused")
    func writeKeyAndFile() throws {
        let fixture = try ConfigFixture()
        let keyFile = try fixture.write("write.key", "other-key")
        let error = try #require(fixture.error(ConfigText.with(["SOURCE": "write_key_file: \(keyFile)"])))
        #expect(error.key == "sources[0].write_key_file")
        #expect(error.description.contains("not both"))
    }

    @Test("token and token_file together are refused")
    func tokenAndFile() throws {
        let fixture = try ConfigFixture()
        let tokenFile = try fixture.write("admin.token", "token-from-file-0123456789")
        let error = try #require(fixture.error(ConfigText.with(["ADMIN": "token_file: \(tokenFile)"])))
        #expect(error.key == "listeners.admin.token_file")
        #expect(error.description.contains("not both"))
    }

    @Test("a missing admin token is refused")
    func missingToken() throws {
        let error = try #require(try ConfigFixture().error(ConfigText.with(replacing: ["    token": ""])))
        #expect(error == .missingKey("listeners.admin.token_file"))
    }

    @Test("an admin token shorter than 16 characters is refused", arguments: [
        ("0123456789abcde", false), ("0123456789abcdef", true), ("  0123456789abcde  ", false), ("0123456789abcdef0123", true),
    ])
    func adminTokenLength(token: String, ok: Bool) throws {
        let fixture = try ConfigFixture()
        let inline = ConfigText.with(replacing: ["    token": "token: \"\(token)\""])
        let tokenFile = try fixture.write("admin.token", token + "\n")
        let fromFile = ConfigText.with(["ADMIN": "token_file: \(tokenFile)"], replacing: ["    token": ""])
        if ok {
            #expect(try fixture.load(inline).listeners.adminToken == token)
            #expect(try fixture.load(fromFile).listeners.adminToken == token)
        } else {
            let inlineError = try #require(fixture.error(inline))
            #expect(inlineError.key == "listeners.admin.token")
            #expect(inlineError.description.contains("16"))
            #expect(!inlineError.description.contains(token.trimmingCharacters(in: .whitespaces)), "the token itself is not echoed")
            #expect(try #require(fixture.error(fromFile)).key == "listeners.admin.token_file")
        }
    }

    @Test("two sources with the same name are refused")
    func duplicateSourceNames() throws {
        let error = try #require(try ConfigFixture().error(ConfigText.with(["SOURCES": "- { name: website, channel: mobile, write_key: key-two }"])))
        #expect(error.key == "sources[1].name")
        #expect(error.description.contains("website"))
    }

    @Test("two sources with the same write key are refused, inline or from a file")
    func duplicateWriteKeys() throws {
        let fixture = try ConfigFixture()
        let inline = try #require(fixture.error(ConfigText.with(["SOURCES": "- { name: app, channel: mobile, write_key: key-one }"])))
        #expect(inline.key == "sources[1].write_key")
        #expect(!inline.description.contains("key-one"), "the key itself is not echoed")

        let keyFile = try fixture.write("app.key", "key-one\n")
        let fromFile = try #require(fixture.error(ConfigText.with(["SOURCES": "- { name: app, channel: mobile, write_key_file: \(keyFile) }"])))
        #expect(fromFile.key == "sources[1].write_key_file")

        // Sources selected only by client certificate have no write key to clash.
        let configuration = try fixture.load(
            ConfigText.with([
                "TLS": "client_ca: /etc/journeyd/clients-ca.crt",
                "SOURCES": "- { name: a, channel: store, client_subject: \"CN=a\" }\n- { name: b, channel: store, client_subject: \"CN=b\" }",
            ]))
        #expect(configuration.sources.map(\.name) == ["website", "a", "b"])
    }

    // MARK: - Identity

    @Test("custom identifier type names are validated", arguments: [
        ("Loyalty", "identity.custom[0].type"), ("1abc", "identity.custom[0].type"), ("loyalty-id", "identity.custom[0].type"),
        ("email", "identity.custom[0].type"), ("user_id", "identity.custom[0].type"), ("\"\"", "identity.custom[0].type"),
    ])
    func customTypeNames(name: String, key: String) throws {
        let error = try #require(try ConfigFixture().error(ConfigText.with(replacing: ["    - type": "- type: \(name)"])))
        guard case .invalidValue(let errorKey, _) = error else {
            Issue.record("expected invalidValue, got \(error)")
            return
        }
        #expect(errorKey == key)
    }

    @Test("custom identifier definitions are checked")
    func customDefinitions() throws {
        let fixture = try ConfigFixture()
        let duplicate = try #require(fixture.error(ConfigText.with(replacing: [
            "      paths": "paths: [traits.loyaltyId]\n    - { type: loyalty_id, paths: [properties.loyalty] }",
        ])))
        #expect(duplicate.key == "identity.custom[1].type")
        #expect(try #require(fixture.error(ConfigText.with(replacing: ["      paths": ""]))) == .missingKey("identity.custom[0].paths"))
        #expect(try #require(fixture.error(ConfigText.with(replacing: ["      paths": "paths: []"]))) == .missingKey("identity.custom[0].paths"))
        for path in ["traits..loyaltyId", ".traits", "traits.", ""] {
            let error = try #require(fixture.error(ConfigText.with(replacing: ["      paths": "paths: [\"\(path)\"]"])))
            #expect(error.key == "identity.custom[0].paths", "path \"\(path)\"")
        }
        // A valid custom type gets the default custom limit and a place in the default priority.
        let configuration = try fixture.load(ConfigText.with())
        #expect(configuration.identity.priority.map(\.rawValue) == ["user_id", "email", "phone", "loyalty_id", "device_id", "anonymous_id"])
        #expect(configuration.identity.limit(for: IdentifierType(rawValue: "loyalty_id")) == 3)
    }

    @Test("a priority naming an unknown type is refused, and partial lists are completed alphabetically")
    func priority() throws {
        let fixture = try ConfigFixture()
        let unknown = try #require(fixture.error(ConfigText.with(["IDENTITY": "priority: [user_id, shoe_size, email]"])))
        #expect(unknown.key == "identity.priority")
        #expect(unknown.description.contains("shoe_size"))
        let repeated = try #require(fixture.error(ConfigText.with(["IDENTITY": "priority: [email, user_id, email]"])))
        #expect(repeated.key == "identity.priority")
        let unknownLimit = try #require(fixture.error(ConfigText.with(["IDLIMITS": "shoe_size: 2"])))
        #expect(unknownLimit.key == "identity.limits.shoe_size")

        let partial = try fixture.load(ConfigText.with(["IDENTITY": "priority: [loyalty_id, email]"]))
        #expect(partial.identity.priority.map(\.rawValue) == ["loyalty_id", "email", "anonymous_id", "device_id", "phone", "user_id"])
    }

    @Test("default_country_code takes 1-4 ASCII digits", arguments: [
        ("\"44\"", true), ("44", true), ("1", true), ("\"1246\"", true),
        ("\"+44\"", false), ("\"4a\"", false), ("\"\"", false), ("\"12345\"", false), ("\"٤٤\"", false), ("\"4 4\"", false), ("[44]", false),
    ])
    func countryCode(text: String, ok: Bool) throws {
        let fixture = try ConfigFixture()
        let yaml = ConfigText.with(["IDENTITY": "default_country_code: \(text)"])
        if ok {
            let configuration = try fixture.load(yaml)
            let digits = text.filter(\.isNumber)
            #expect(configuration.identifierNormaliser.normalise("7700 900123", as: .phone)?.value == "+\(digits)7700900123")
        } else {
            #expect(try #require(fixture.error(yaml)).key == "identity.default_country_code")
        }
    }

    // MARK: - File-level problems

    @Test("YAML syntax errors are invalidYAML", arguments: [
        "tls: [unclosed", "a: b: c", "tls:\n\tcertificate: x", "key: \"unterminated", "- a\nb: c", "{ a: 1, ",
    ])
    func invalidYAML(text: String) throws {
        let error = try #require(try ConfigFixture().error(text))
        guard case .invalidYAML(let reason) = error else {
            Issue.record("expected invalidYAML, got \(error)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(error.key == nil)
        #expect(error.description.hasPrefix("config file is not valid YAML"))
    }

    @Test("a key written twice is refused, naming the key and line but not echoing the file")
    func duplicateKeys() throws {
        let fixture = try ConfigFixture()
        let topLevel = try #require(fixture.error(ConfigText.with(["TOP": "state_dir: /other"])))
        guard case .invalidYAML(let reason) = topLevel else {
            Issue.record("expected invalidYAML, got \(topLevel)")
            return
        }
        #expect(reason.contains("state_dir"))
        #expect(reason.contains("line 1"))
        #expect(!topLevel.description.contains("key-one"), "the file's secrets are not repeated: \(topLevel)")
        #expect(!topLevel.description.contains("0123456789abcdef"), "the file's secrets are not repeated: \(topLevel)")

        let nested = try #require(fixture.error(ConfigText.with(["HTTP": "address: \"0.0.0.0:1\""])))
        #expect(nested.description.contains("address"))
        #expect(!nested.description.contains("key-one"))
    }

    @Test("an empty file names the first missing key", arguments: ["", "\n\n", "# only a comment\n", "---\n", "~"])
    func emptyFile(text: String) throws {
        #expect(try #require(try ConfigFixture().error(text)) == .missingKey("tls.certificate"))
    }

    @Test("missing sections are named one by one")
    func missingSections() throws {
        let fixture = try ConfigFixture()
        #expect(try #require(fixture.error("tls: { certificate: /c, private_key: /k }")) == .missingKey("listeners.admin.token_file"))
        let noSources = try #require(fixture.error("tls: { certificate: /c, private_key: /k }\nlisteners: { admin: { token: 0123456789abcdef } }"))
        #expect(noSources.key == "sources")
    }

    @Test("an unreadable file is reported with its path")
    func unreadableFile() throws {
        let fixture = try ConfigFixture()
        let missing = fixture.directory + "/absent.yaml"
        do {
            _ = try ConfigurationLoader.load(path: missing, environment: [:])
            Issue.record("a missing file loaded")
        } catch {
            guard case .unreadableFile(let path, let reason) = error else {
                Issue.record("expected unreadableFile, got \(error)")
                return
            }
            #expect(path == missing)
            #expect(!reason.isEmpty)
            #expect(error.description.contains(missing))
        }
        // A directory is not a readable config file either.
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: fixture.directory, environment: [:]) }
    }

    // MARK: - Local defaults

    @Test("local defaults: loopback listeners, one dev source, environment overrides")
    func localDefaults() throws {
        let tls = JourneydConfiguration.TLSFiles(certificatePath: "/dev.crt", privateKeyPath: "/dev.key", clientCAPath: nil)
        let configuration = try ConfigurationLoader.localDefaults(
            stateDirectory: "./state", writeKey: "dev-write-key", adminToken: "dev-admin-token-0123456789", tls: tls, environment: [:])
        #expect(configuration.isLocalDefaults)
        #expect(configuration.stateDirectory == "./state")
        #expect(configuration.tls == tls)
        #expect(configuration.listeners.http.isLoopback && configuration.listeners.stream.isLoopback && configuration.listeners.admin.isLoopback)
        #expect(configuration.sources == [.init(name: "dev", channel: "web", writeKey: "dev-write-key", clientSubject: nil, streamWriteKey: true)])
        #expect(configuration.listeners.adminToken == "dev-admin-token-0123456789")

        let overridden = try ConfigurationLoader.localDefaults(
            stateDirectory: "./state", writeKey: "k", adminToken: "dev-admin-token-0123456789", tls: tls,
            environment: ["JOURNEYD_LISTENERS__HTTP__ADDRESS": "127.0.0.1:0", "JOURNEYD_LOGGING__FORMAT": "json"])
        #expect(overridden.listeners.http.port == 0)
        #expect(overridden.logging.format == .json)
    }
}

/// Configured and presented certificate subjects compare as distinguished names.
@Suite struct ClientSubjectTests {
    @Test func spacingAndAttributeCaseDoNotMatterButValuesDo() {
        #expect(ClientSubject(" cn = cc-exporter ,o=Example ")?.description == "CN=cc-exporter,O=Example")
        #expect(ClientSubject("CN=cc-exporter") == ClientSubject("cn=cc-exporter"))
        #expect(ClientSubject("CN=cc-exporter") != ClientSubject("CN=CC-exporter"))
        #expect(ClientSubject(#"CN=Smith\, John,O=Example"#)?.description == #"CN=Smith\, John,O=Example"#)
        for bad in ["", "cc-exporter", "CN=", "=x", "CN=a,,O=b", "C N=a"] {
            #expect(ClientSubject(bad) == nil, "\(bad)")
        }
    }
}
