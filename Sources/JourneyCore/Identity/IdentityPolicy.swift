/// Merge protection settings: how many distinct values of each identifier type one profile may
/// hold, and which types win when an event would join profiles past a limit.
///
/// Immutable and `Sendable`. Defaults (DESIGN.md; reasoning in docs/IDENTITY.md): `user_id` 1,
/// `email` 5, `phone` 5, each custom type 3; `device_id` and `anonymous_id` unlimited, because
/// one person legitimately uses many browsers and devices. Priority: `user_id, email, phone,
/// <custom types alphabetically>, device_id, anonymous_id`. Shared-identifier thresholds: every
/// type but `user_id` is flagged as shared once seen with 5 distinct user ids.
public struct IdentityPolicy: Sendable, Equatable {
    public static let defaultLimits: [IdentifierType: Int] = [.userID: 1, .email: 5, .phone: 5]
    public static let defaultCustomLimit = 3
    public static let defaultSharedThreshold = 5

    /// Every identifier type in force, highest priority first.
    public let priority: [IdentifierType]
    /// Distinct values allowed per profile, highest priority first; a type absent here is
    /// unlimited. Small tables, as the stitcher reads them for every event: a few short type names
    /// compared in a row cost less than hashing one.
    public let limits: SmallMap<IdentifierType, Int>
    /// Distinct user ids an identifier value may be seen with before it is flagged as shared
    /// (it stops linking), in priority order; a type absent here is never flagged.
    public let sharedThresholds: SmallMap<IdentifierType, Int>

    /// - Parameters:
    ///   - customTypes: operator-defined identifier types.
    ///   - limitOverrides: configured limits; `0` means unlimited.
    ///   - configuredPriority: a configured order; types it leaves out follow alphabetically.
    ///   - sharedThresholdOverrides: configured shared-identifier thresholds; `0` means never.
    public init(
        customTypes: [IdentifierType] = [], limitOverrides: [IdentifierType: Int] = [:],
        configuredPriority: [IdentifierType]? = nil, sharedThresholdOverrides: [IdentifierType: Int] = [:]
    ) throws(IdentityPolicyError) {
        let known = IdentifierType.builtIn + customTypes.sorted()
        for type in Array(limitOverrides.keys) + Array(sharedThresholdOverrides.keys) where !known.contains(type) {
            throw IdentityPolicyError.unknownType(type, known: known)
        }
        var thresholds: [IdentifierType: Int] = [:]
        for type in known where type != .userID { thresholds[type] = Self.defaultSharedThreshold }
        for (type, threshold) in sharedThresholdOverrides {
            guard type != .userID else { throw IdentityPolicyError.sharedThresholdOnUserID }
            guard threshold == 0 || threshold >= 2 else { throw IdentityPolicyError.sharedThresholdTooLow(type) }
            thresholds[type] = threshold == 0 ? nil : threshold
        }
        var limits = Self.defaultLimits
        for type in customTypes { limits[type] = Self.defaultCustomLimit }
        for (type, limit) in limitOverrides {
            guard limit >= 0 else { throw IdentityPolicyError.negativeLimit(type) }
            limits[type] = limit == 0 ? nil : limit
        }
        let order: [IdentifierType]
        if let configuredPriority {
            for type in configuredPriority where !known.contains(type) {
                throw IdentityPolicyError.unknownType(type, known: known)
            }
            guard Set(configuredPriority).count == configuredPriority.count else {
                throw IdentityPolicyError.duplicatePriority
            }
            order = configuredPriority + known.filter { !configuredPriority.contains($0) }.sorted()
        } else {
            order = [.userID, .email, .phone] + customTypes.sorted() + [.deviceID, .anonymousID]
        }
        self.priority = order
        self.limits = SmallMap(order.compactMap { type in limits[type].map { (type, $0) } })
        sharedThresholds = SmallMap(order.compactMap { type in thresholds[type].map { (type, $0) } })
    }

    /// Position in the priority order (0 = highest); unknown types rank last. A linear scan:
    /// there are only a few types, and comparing short strings beats hashing them.
    public func rank(of type: IdentifierType) -> Int {
        Self.rank(of: type, in: priority)
    }

    /// `rank(of:)` in a priority order held apart from its policy.
    static func rank(of type: IdentifierType, in priority: [IdentifierType]) -> Int {
        priority.firstIndex(of: type) ?? priority.count
    }

    public func limit(for type: IdentifierType) -> Int? {
        limits[type]
    }

    public func sharedThreshold(for type: IdentifierType) -> Int? {
        sharedThresholds[type]
    }
}

/// A merge-protection setting that cannot be used, with a message naming what to change.
public enum IdentityPolicyError: Error, Equatable, CustomStringConvertible {
    case unknownType(IdentifierType, known: [IdentifierType])
    case negativeLimit(IdentifierType)
    case duplicatePriority
    case sharedThresholdOnUserID
    case sharedThresholdTooLow(IdentifierType)

    public var description: String {
        switch self {
        case .unknownType(let type, let known):
            return "unknown identifier type \"\(type)\" (known: \(known.map(\.rawValue).joined(separator: ", ")))"
        case .negativeLimit(let type):
            return "limit for \(type) must be 0 (unlimited) or more"
        case .duplicatePriority:
            return "priority lists an identifier type twice"
        case .sharedThresholdOnUserID:
            return "user_id has no shared threshold (it is what the others are counted against)"
        case .sharedThresholdTooLow(let type):
            return "shared threshold for \(type) must be 0 (never) or at least 2 distinct user ids"
        }
    }
}
