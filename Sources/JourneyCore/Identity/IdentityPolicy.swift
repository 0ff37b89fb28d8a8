/// Merge protection settings: how many distinct values of each identifier type one profile may
/// hold, and which types win when an event would join profiles past a limit.
///
/// Immutable and `Sendable`. Defaults (DESIGN.md; reasoning in docs/IDENTITY.md): `user_id` 1,
/// `email` 5, `phone` 5, each custom type 3; `device_id` and `anonymous_id` unlimited, because
/// one person legitimately uses many browsers and devices. Priority: `user_id, email, phone,
/// <custom types alphabetically>, device_id, anonymous_id`.
public struct IdentityPolicy: Sendable, Equatable {
    public static let defaultLimits: [IdentifierType: Int] = [.userID: 1, .email: 5, .phone: 5]
    public static let defaultCustomLimit = 3

    /// Every identifier type in force, highest priority first.
    public let priority: [IdentifierType]
    /// Distinct values allowed per profile; a type absent here is unlimited.
    public let limits: [IdentifierType: Int]

    /// - Parameters:
    ///   - customTypes: operator-defined identifier types.
    ///   - limitOverrides: configured limits; `0` means unlimited.
    ///   - configuredPriority: a configured order; types it leaves out follow alphabetically.
    public init(
        customTypes: [IdentifierType] = [], limitOverrides: [IdentifierType: Int] = [:],
        configuredPriority: [IdentifierType]? = nil
    ) throws(IdentityPolicyError) {
        let known = IdentifierType.builtIn + customTypes.sorted()
        for type in limitOverrides.keys where !known.contains(type) {
            throw IdentityPolicyError.unknownType(type, known: known)
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
        self.limits = limits
    }

    /// Position in the priority order (0 = highest); unknown types rank last. A linear scan:
    /// there are only a few types, and comparing short strings beats hashing them.
    public func rank(of type: IdentifierType) -> Int {
        priority.firstIndex(of: type) ?? priority.count
    }

    public func limit(for type: IdentifierType) -> Int? {
        limits[type]
    }
}

/// A merge-protection setting that cannot be used, with a message naming what to change.
public enum IdentityPolicyError: Error, Equatable, CustomStringConvertible {
    case unknownType(IdentifierType, known: [IdentifierType])
    case negativeLimit(IdentifierType)
    case duplicatePriority

    public var description: String {
        switch self {
        case .unknownType(let type, let known):
            return "unknown identifier type \"\(type)\" (known: \(known.map(\.rawValue).joined(separator: ", ")))"
        case .negativeLimit(let type):
            return "limit for \(type) must be 0 (unlimited) or more"
        case .duplicatePriority:
            return "priority lists an identifier type twice"
        }
    }
}
