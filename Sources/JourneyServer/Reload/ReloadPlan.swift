/// What putting a newly loaded configuration in force changes, worked out before anything is
/// touched: the configuration to put in force, which changed settings take effect now, which
/// keep their running value until a restart, and which listeners move to a new address.
///
/// Settings read per request or per connection take effect now; settings the engine, the WAL,
/// the snapshot writer or a bound listener's server were built with need a restart. A value;
/// built by `ReloadService` on each SIGHUP, no I/O.
struct ReloadPlan {
    /// The listeners that can move to a new address without a restart.
    enum Listener: String, CaseIterable, Sendable {
        case http, stream, admin

        /// The configuration key of its address.
        var key: String { "listeners.\(rawValue).address" }
    }

    /// The loaded file's live settings over the running configuration's restart-only ones.
    let inForce: JourneydConfiguration
    /// Key names of the changed settings that take effect now (never their values).
    let applied: [String]
    /// Key names of the changed settings that keep their running value until a restart.
    let needsRestart: [String]
    /// The listeners whose address changed, with the new address.
    let moves: [(listener: Listener, address: ListenAddress)]
    /// Names of the sources added, removed, and changed in any field (write key, channel, …).
    let sourcesAdded: [String]
    let sourcesRemoved: [String]
    let sourcesChanged: [String]

    init(running: JourneydConfiguration, loaded: JourneydConfiguration) {
        var inForce = running
        var applied: [String] = []
        for setting in Self.liveSettings where setting.differs(running, loaded) {
            setting.take(&inForce, loaded)
            applied.append(setting.key)
        }
        self.inForce = inForce
        self.applied = applied
        needsRestart = Self.restartSettings.filter { $0.differs(running, loaded) }.map(\.key)
        moves = Listener.allCases.compactMap { listener in
            let address = Self.address(of: listener, in: loaded)
            return address == Self.address(of: listener, in: running) ? nil : (listener, address)
        }
        let before = Dictionary(uniqueKeysWithValues: running.sources.map { ($0.name, $0) })
        let after = Dictionary(uniqueKeysWithValues: loaded.sources.map { ($0.name, $0) })
        sourcesAdded = loaded.sources.map(\.name).filter { before[$0] == nil }
        sourcesRemoved = running.sources.map(\.name).filter { after[$0] == nil }
        sourcesChanged = loaded.sources.filter { source in before[source.name].map { $0 != source } ?? false }.map(\.name)
    }

    static func address(of listener: Listener, in configuration: JourneydConfiguration) -> ListenAddress {
        switch listener {
        case .http: configuration.listeners.http
        case .stream: configuration.listeners.stream
        case .admin: configuration.listeners.admin
        }
    }

    /// One configuration key, compared between the running and the loaded configuration.
    private struct Setting {
        let key: String
        let differs: (JourneydConfiguration, JourneydConfiguration) -> Bool
        /// Copies the loaded value into the configuration put in force (live settings only).
        let take: (inout JourneydConfiguration, JourneydConfiguration) -> Void

        static func live<Value: Equatable>(_ key: String, _ path: WritableKeyPath<JourneydConfiguration, Value>) -> Setting {
            Setting(key: key, differs: { $0[keyPath: path] != $1[keyPath: path] }, take: { $0[keyPath: path] = $1[keyPath: path] })
        }

        static func restart<Value: Equatable>(_ key: String, _ path: KeyPath<JourneydConfiguration, Value>) -> Setting {
            Setting(key: key, differs: { $0[keyPath: path] != $1[keyPath: path] }, take: { _, _ in })
        }
    }

    /// Read per request, per connection or per interval, or the address of a listener that can be
    /// moved. The TLS files are read again on every reload whether or not their paths changed.
    private static var liveSettings: [Setting] {
        [
            .live("tls.certificate", \.tls.certificatePath),
            .live("tls.private_key", \.tls.privateKeyPath),
            .live("tls.client_ca", \.tls.clientCAPath),
            .live(Listener.http.key, \.listeners.http),
            .live(Listener.stream.key, \.listeners.stream),
            .live(Listener.admin.key, \.listeners.admin),
            .live("listeners.admin.token", \.listeners.adminToken),
            .live("sources", \.sources),
            .live("limits.event_bytes", \.limits.eventBytes),
            .live("limits.batch_bytes", \.limits.batchBytes),
            .live("limits.batch_events", \.limits.batchEvents),
            .live("limits.line_bytes", \.limits.lineBytes),
            .live("limits.handshake_timeout", \.limits.handshakeTimeout),
            .live("limits.max_pending_requests", \.limits.maxPendingRequests),
            .live("logging.level", \.logging.level),
            .live("logging.stats_interval", \.logging.statsInterval),
        ]
    }

    /// Built into the engine, the WAL, the snapshot writer, or a listener's server and connection
    /// pool at start; changing them while running would treat events of one run differently.
    private static var restartSettings: [Setting] {
        [
            .restart("state_dir", \.stateDirectory),
            .restart("durability", \.durability),
            .restart("durability_interval", \.durabilityInterval),
            .restart("snapshots.interval", \.snapshots.interval),
            .restart("snapshots.keep", \.snapshots.keep),
            .restart("identity.priority", \.identity.priority),
            .restart("identity.limits", \.identity.limits),
            .restart("identity.custom", \.customIdentifiers),
            .restart("identity.blocklist", \.identifierRules.blocklist),
            .restart("identity.default_country_code", \.identifierRules.defaultCountryCode),
            .restart("phases", \.phaseRules.rules),
            .restart("journeys.max_touchpoints_per_profile", \.maxTouchpointsPerProfile),
            .restart("limits.max_connections", \.limits.maxConnections),
            .restart("limits.idle_timeout", \.limits.idleTimeout),
            .restart("listeners.admin.tls", \.listeners.adminTLS),
            .restart("logging.format", \.logging.format),
            .restart("shutdown_timeout", \.shutdownTimeout),
        ]
    }
}
