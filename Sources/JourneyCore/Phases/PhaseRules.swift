/// The ordered phase rule list: operator rules first, then the built-in defaults; first match wins.
///
/// Immutable and `Sendable`; shared by all ingest tasks. The built-in table follows Segment's
/// e-commerce and mobile lifecycle specs (see docs/PHASES.md for the table and the reasoning).
public struct PhaseRules: Sendable {
    public let rules: [PhaseRule]
    /// Rules that only name a track event exactly (most of the table): event name → the index of
    /// the first such rule, found by one lookup instead of a scan.
    private let trackNameRules: [String: Int]
    /// The indices of all other rules, in order.
    private let otherRules: [Int]

    /// - Parameter operatorRules: configured rules, tried before the built-in ones.
    public init(operatorRules: [PhaseRule] = []) {
        let rules = operatorRules + Self.builtIn
        var trackNameRules: [String: Int] = [:]
        var otherRules: [Int] = []
        for (index, rule) in rules.enumerated() {
            if rule.type == .track, let event = rule.event, !event.isGlob, rule.channel == nil, rule.properties.isEmpty {
                if trackNameRules[event.text] == nil { trackNameRules[event.text] = index }
            } else {
                otherRules.append(index)
            }
        }
        self.rules = rules
        self.trackNameRules = trackNameRules
        self.otherRules = otherRules
        self.operatorRuleCount = operatorRules.count
    }

    /// How many of `rules` are the operator's (they come first).
    public let operatorRuleCount: Int

    /// The phase of a touchpoint, or nil when no rule matches (identify, group and alias calls
    /// and unknown track events carry no phase by default). `properties` is the event's
    /// `properties` object (identify and group: `traits`), for rules with property conditions.
    public func phase(type: EventType, event: String?, channel: String, properties: JSONValue? = nil) -> Phase? {
        firstMatch(type: type, event: event, channel: channel, properties: properties).map { rules[$0].phase }
    }

    /// The index in `rules` of the first rule that matches (below `operatorRuleCount`: an
    /// operator rule), or nil.
    public func firstMatch(type: EventType, event: String?, channel: String, properties: JSONValue? = nil) -> Int? {
        let byName = type == .track ? event.flatMap { trackNameRules[$0] } : nil
        for index in otherRules {
            if let byName, byName < index { return byName }
            if rules[index].matches(type: type, event: event, channel: channel, properties: properties) { return index }
        }
        return byName
    }

    public static let builtIn: [PhaseRule] = {
        func track(_ phase: Phase, _ names: [String]) -> [PhaseRule] {
            names.map { PhaseRule(phase: phase, type: .track, event: $0) }
        }
        return track(.discover, [
            "Promotion Viewed", "Promotion Clicked", "Application Installed", "Deep Link Opened",
            "Install Attributed",
        ])
            + track(.buy, ["Order Completed"])
            + track(.explore, [
                "Products Searched", "Product List Viewed", "Product List Filtered", "Product Clicked",
                "Product Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started",
                "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered", "Coupon Entered",
                "Coupon Applied", "Coupon Denied", "Coupon Removed", "Product Added to Wishlist",
                "Product Removed from Wishlist", "Wishlist Product Added to Cart",
            ])
            + track(.use, [
                "Application Opened", "Application Backgrounded", "Application Updated", "Order Delivered",
                "Product Used", "Signed In",
            ])
            + track(.ask, [
                "Order Refunded", "Order Cancelled", "Ticket Created", "Ticket Updated", "Live Chat Started",
                "Call Received", "Help Article Viewed",
            ])
            + track(.engage, [
                "Email Opened", "Email Link Clicked", "Push Notification Tapped", "Product Reviewed",
                "Product Shared", "Cart Shared", "Signed Up", "Newsletter Subscribed", "Referral Sent",
            ])
            + [
                PhaseRule(phase: .ask, channel: "call_center"),
                PhaseRule(phase: .explore, type: .page),
                PhaseRule(phase: .explore, type: .screen),
            ]
    }()
}
