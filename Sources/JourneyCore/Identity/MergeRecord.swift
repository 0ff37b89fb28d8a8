/// One row of `merges.jsonl.gz`: a merge, a refused merge, an id superseded by re-resolution, or
/// a split an operator asked for.
public struct MergeRecord: Sendable, Equatable {
    /// Why profiles were (or were not) joined, or why an id moved.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// One event carried identifiers of both profiles.
        case sharedIdentifier
        /// An alias call linked `previousId` to `userId`.
        case alias
        /// Refused: joining would give the profile more distinct values of this type than allowed.
        case limit(IdentifierType)
        /// Refused: an operator split these customers apart (`POST /v1/profiles/{id}/split`).
        case keptApart
        /// Not a join: the id was in use, and re-resolution (a late event, a split, an erasure)
        /// moved its touchpoints to this profile. Depends on arrival order, unlike the others.
        case superseded
        /// Not a join: an operator split `from`, and `into` is one of the profiles it became.
        case split(SplitCause)

        public var description: String {
            switch self {
            case .sharedIdentifier: return "shared_identifier"
            case .alias: return "alias"
            case .limit(let type): return "limit:\(type.rawValue)"
            case .keptApart: return "kept_apart"
            case .superseded: return "superseded"
            case .split(let cause): return "split:\(cause.rawValue)"
            }
        }
    }

    /// What an operator's split named.
    public enum SplitCause: String, Sendable, Equatable {
        /// An identifier value declared shared (it stops linking).
        case identifier
        /// A recorded merge undone.
        case merge
    }

    /// The absorbed profile (for a refused merge: the profile left apart; for a split: the profile
    /// that was split).
    public var from: ProfileID
    /// The surviving profile (for a refused merge: the profile the event attached to; for a split:
    /// a profile it became).
    public var into: ProfileID
    /// Corrected time of the event that caused it; for a split or a superseded id, when it happened.
    public var at: Timestamp
    /// The event that caused it; nil for a split.
    public var messageID: String?
    public var reason: Reason

    public init(from: ProfileID, into: ProfileID, at: Timestamp, messageID: String?, reason: Reason) {
        self.from = from
        self.into = into
        self.at = at
        self.messageID = messageID
        self.reason = reason
    }

    public var blocked: Bool {
        switch reason {
        case .limit, .keptApart: return true
        default: return false
        }
    }

    /// A join (not a refusal, a superseded id or a split).
    var isMerge: Bool {
        switch reason {
        case .sharedIdentifier, .alias: return true
        default: return false
        }
    }
}
