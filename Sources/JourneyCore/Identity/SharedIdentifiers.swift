/// Evidence that an identifier value is shared by several customers: the distinct `user_id`s it
/// was seen with in one event (a device id seen with five user ids is a shop's kiosk or a
/// family's tablet rather than a person's phone). Counted per event, so it does not depend on
/// arrival order or on how profiles happen to be resolved.
///
/// Kept compactly: most identifiers are seen with at most one user id, held inline; only the
/// others spill into a sharded table. A value type with chunked storage; one owner.
struct SharedIdentifierEvidence {
    private static let none = UInt32.max
    private var firstUser = ChunkedArray<UInt32>()
    private var moreUsers = ShardedDictionary<UInt32, [UInt32]>()

    /// Adds room for the next interned identifier.
    mutating func append() {
        firstUser.append(Self.none)
    }

    /// Records that `identifier` appeared in an event with user id `user`; returns how many
    /// distinct user ids it has been seen with.
    mutating func note(_ identifier: UInt32, user: UInt32) -> Int {
        let first = firstUser[Int(identifier)]
        if first == Self.none {
            firstUser[Int(identifier)] = user
            return 1
        }
        if first == user { return 1 + (moreUsers[identifier]?.count ?? 0) }
        var more = moreUsers[identifier] ?? []
        if !more.contains(user) {
            more.append(user)
            moreUsers[identifier] = more
        }
        return 1 + more.count
    }

    func userCount(of identifier: UInt32) -> Int {
        firstUser[Int(identifier)] == Self.none ? 0 : 1 + (moreUsers[identifier]?.count ?? 0)
    }

    /// Every identifier's user ids (for the checkpoint): first user id, then the others.
    func users(of identifier: UInt32) -> [UInt32] {
        let first = firstUser[Int(identifier)]
        return first == Self.none ? [] : [first] + (moreUsers[identifier] ?? [])
    }

    /// Restores one identifier's user ids (checkpoint loading), in `users(of:)` order.
    mutating func restore(_ identifier: UInt32, users: [UInt32]) {
        guard let first = users.first else { return }
        firstUser[Int(identifier)] = first
        if users.count > 1 { moreUsers[identifier] = Array(users.dropFirst()) }
    }
}

/// An identifier value flagged as shared: it no longer links profiles (an event carrying it
/// attaches through its other identifiers).
struct SharedIdentifier {
    enum Reason: Equatable {
        /// Seen with at least the configured number of distinct user ids.
        case automatic
        /// Declared by an operator (`POST /v1/profiles/{id}/split`).
        case declared
    }

    var identifier: UInt32
    var reason: Reason
    /// When: the received-at time of the event that crossed the threshold, or of the split.
    var at: Int64
}

extension Stitcher {
    /// Counts the user ids each identifier of a new event is seen with, and flags the ones that
    /// cross their type's threshold (`IdentityPolicy.sharedThreshold(for:)`) as shared.
    mutating func noteSharedEvidence(_ links: [UInt32], cause: ResolutionCause) {
        guard links.count > 1 else { return }
        for user in links where identifierList[Int(user)].type == .userID {
            for link in links where link != user {
                let type = identifierList[Int(link)].type
                guard let threshold = policy.sharedThreshold(for: type), !identifierFlags[Int(link)].contains(.shared) else { continue }
                let users = sharedEvidence.note(link, user: user)
                if users >= threshold {
                    flagShared(link, reason: .automatic, cause: cause)
                    notices.append(.identifierFlaggedShared(type: type, valueHash: Self.valueHash(identifierList[Int(link)]), userIDs: users))
                }
            }
        }
    }

    /// Marks `identifier` as shared and leaves its component to be re-resolved without it.
    mutating func flagShared(_ identifier: UInt32, reason: SharedIdentifier.Reason, cause: ResolutionCause) {
        identifierFlags[Int(identifier)].insert(.shared)
        sharedIdentifiers.append(SharedIdentifier(identifier: identifier, reason: reason, at: cause.at))
        unsettled.append((identifier, cause))
    }

    /// A stable, non-reversible name for an identifier value in logs (no customer data at info
    /// or warning level): 16 hex digits of a hash of its type and value.
    static func valueHash(_ identifier: Identifier) -> String {
        SuppressionDigest(identifier).hex
    }

    /// One identifier flagged as shared, as `/v1/stats` and the snapshot list it.
    public struct SharedIdentifierEntry: Sendable, Equatable {
        public var identifier: Identifier
        /// Declared by an operator (a split), not flagged automatically.
        public var declared: Bool
        public var at: Timestamp
        /// Distinct user ids it was seen with.
        public var userIDs: Int
    }

    /// The shared identifiers still known (erased ones are left out), in the order flagged.
    public var sharedIdentifierList: [SharedIdentifierEntry] {
        sharedIdentifiers.compactMap { shared in
            guard !identifierFlags[Int(shared.identifier)].contains(.erased) else { return nil }
            return SharedIdentifierEntry(
                identifier: identifierList[Int(shared.identifier)], declared: shared.reason == .declared,
                at: Timestamp(millisecondsSinceEpoch: shared.at), userIDs: sharedEvidence.userCount(of: shared.identifier))
        }
    }
}
