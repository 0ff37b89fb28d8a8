/// One merge, id change or refused merge, as published in `merges.jsonl.gz`.
public struct MergeRecord: Sendable, Equatable {
    /// Why profiles were (or were not) joined.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// One event carried identifiers of both profiles.
        case sharedIdentifier
        /// An alias call linked `previousId` to `userId`.
        case alias
        /// An earlier touchpoint arrived late and the profile's id moved to it.
        case earlierTouchpoint
        /// Refused: joining would give the profile more distinct values of this type than allowed.
        case limit(IdentifierType)

        public var description: String {
            switch self {
            case .sharedIdentifier: return "shared_identifier"
            case .alias: return "alias"
            case .earlierTouchpoint: return "earlier_touchpoint"
            case .limit(let type): return "limit:\(type.rawValue)"
            }
        }
    }

    /// The absorbed profile id (for a refused merge: the profile left apart).
    public var from: String
    /// The surviving profile id (for a refused merge: the profile the event attached to).
    public var into: String
    /// Corrected time of the event that caused it.
    public var at: Timestamp
    public var messageID: String
    public var reason: Reason

    public var blocked: Bool {
        if case .limit = reason { return true }
        return false
    }
}
