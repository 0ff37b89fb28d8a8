/// Where to read an operator-defined identifier type from: JSON paths relative to the event,
/// e.g. `loyalty_id` from `traits.loyaltyId` or `properties.loyalty_id`.
public struct CustomIdentifierPath: Sendable, Equatable {
    public var type: IdentifierType
    /// Each path split at dots: `traits.loyaltyId` → `["traits", "loyaltyId"]`.
    public var paths: [[String]]

    public init(type: IdentifierType, paths: [String]) {
        self.type = type
        self.paths = paths.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
    }
}
