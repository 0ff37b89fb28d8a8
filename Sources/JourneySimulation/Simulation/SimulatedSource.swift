/// The five systems the simulated company sends events from, one journeyd source each, with the
/// channel the daemon's config gives it. A stream connection authenticates as one source, so
/// the corpus is kept per source.
public enum SimulatedSource: Int, CaseIterable, Sendable {
    /// analytics.js on the shop's website.
    case website
    /// analytics-swift / analytics-kotlin in the shop's app.
    case app
    /// The email service provider's engagement webhook.
    case email
    /// The call centre's ticket export.
    case callCentre
    /// The point-of-sale systems in the shops.
    case store

    public var name: String {
        switch self {
        case .website: "website"
        case .app: "app"
        case .email: "email"
        case .callCentre: "call-centre"
        case .store: "store"
        }
    }

    public var channel: String {
        switch self {
        case .website: "web"
        case .app: "mobile"
        case .email: "email"
        case .callCentre: "call_center"
        case .store: "store"
        }
    }

    /// The write key the generated daemon config gives this source.
    public func writeKey(prefix: String) -> String {
        "\(prefix)-\(name)-write-key"
    }
}

/// The part of a journeyd config that accepts the simulated corpus: the five sources with their
/// write keys (stream clients may send `{"writeKey":…}` as their first line), and where the
/// `loyalty_id` identifier is found.
public enum DaemonConfigFragment {
    /// The custom identifier paths the store events and loyalty-card identifies rely on.
    public static let loyaltyPaths = ["traits.loyaltyId", "properties.loyalty_id"]

    /// Top-level YAML keys `sources:` and `identity:`, to append to a config that has neither.
    public static func yaml(keyPrefix: String) -> String {
        var lines = ["sources:"]
        for source in SimulatedSource.allCases {
            lines.append("  - { name: \(source.name), channel: \(source.channel), write_key: \"\(source.writeKey(prefix: keyPrefix))\", stream_write_key: true }")
        }
        lines.append("identity:")
        lines.append("  custom: [{ type: loyalty_id, paths: [\(loyaltyPaths.joined(separator: ", "))] }]")
        return lines.joined(separator: "\n") + "\n"
    }
}
