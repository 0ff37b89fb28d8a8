/// Operator operations on the identity graph — erasure and splits — checked first (what the admin
/// API answers 404 or 409 with), then written to the WAL by the engine, then performed, so WAL
/// replay repeats each at the same point.
public enum StitcherOperation: Sendable, Equatable {
    /// Erase the profile (an absorbed or superseded id names its current profile); with
    /// `suppress`, later events carrying its identifiers are refused.
    case erase(ProfileID, suppress: Bool)
    /// Erase the profile that owns this (normalised) identifier.
    case eraseIdentifier(Identifier, suppress: Bool)
    /// Declare this identifier of the profile shared: it stops linking, now and for later events.
    case splitSharing(ProfileID, Identifier)
    /// Undo the recorded merge that absorbed `from` into the profile: keep the two apart.
    case splitUndoingMerge(ProfileID, from: ProfileID)
}

/// Why an operation cannot be performed; the message says what to check.
public enum StitcherOperationError: Error, Equatable, CustomStringConvertible {
    /// Nothing to act on (answered 404).
    case notFound(String)
    /// It exists but the operation does not apply (answered 409).
    case conflict(String)

    public var description: String {
        switch self {
        case .notFound(let message), .conflict(let message): return message
        }
    }
}

/// What a performed operation did.
public enum StitcherOperationResult: Sendable, Equatable {
    case erased(Stitcher.Erasure)
    case split(Stitcher.Split)
}

extension Stitcher {
    /// What an erasure removed.
    public struct Erasure: Sendable, Equatable {
        public var profileID: ProfileID
        public var touchpoints: Int
        public var identifiers: Int
        /// Identifiers whose later events will be refused.
        public var suppressed: Int
    }

    /// The result of a split: the profiles the split profile's touchpoints are in now.
    public struct Split: Sendable, Equatable {
        public var profileID: ProfileID
        public var profiles: [ProfileID]
    }

    /// An operation resolved against the current state.
    private enum Plan {
        case erase(slot: Int32, suppress: Bool)
        case share(slot: Int32, identifier: UInt32)
        case keepApart(slot: Int32, first: StoredTouchpoint, second: StoredTouchpoint)
    }

    /// Throws what makes `operation` impossible now; changes nothing. Call on a settled stitcher.
    public func check(_ operation: StitcherOperation) throws(StitcherOperationError) {
        _ = try plan(operation)
    }

    /// Performs `operation` (`at`: when it was asked for, recorded in the WAL with it).
    public mutating func perform(_ operation: StitcherOperation, at: Timestamp) throws(StitcherOperationError) -> StitcherOperationResult {
        settle()
        let cause = ResolutionCause(at: at.millisecondsSinceEpoch)
        switch try plan(operation) {
        case .erase(let slot, let suppress):
            return .erased(erase(slot: slot, suppress: suppress, cause: cause))
        case .share(let slot, let identifier):
            let before = profiles[Int(slot)]!
            if !identifierFlags[Int(identifier)].contains(.shared) {
                identifierFlags[Int(identifier)].insert(.shared)
                sharedIdentifiers.append(SharedIdentifier(identifier: identifier, reason: .declared, at: cause.at))
            }
            return .split(splitResolving(before, component: identifier, cause: cause, splitCause: .identifier))
        case .keepApart(let slot, let first, let second):
            let before = profiles[Int(slot)]!
            splitRules.add(first: touchKey(of: first), at: first.payload, second: touchKey(of: second), at: second.payload)
            return .split(splitResolving(before, component: before.identifierIDs[0], cause: cause, splitCause: .merge))
        }
    }

    private func plan(_ operation: StitcherOperation) throws(StitcherOperationError) -> Plan {
        switch operation {
        case .erase(let id, let suppress):
            return .erase(slot: try slot(of: id), suppress: suppress)
        case .eraseIdentifier(let identifier, let suppress):
            guard let id = profileID(for: identifier) else { throw .notFound("no profile has that \(identifier.type.rawValue)") }
            return .erase(slot: try slot(of: id), suppress: suppress)
        case .splitSharing(let id, let identifier):
            let slot = try slot(of: id)
            guard let interned = identifierID(of: identifier), owner[Int(interned)] == slot else {
                throw .conflict("profile \(profiles[Int(slot)]!.id) has no \(identifier.type.rawValue) identifier with that value")
            }
            return .share(slot: slot, identifier: interned)
        case .splitUndoingMerge(let id, let from):
            let slot = try slot(of: id)
            let record = profiles[Int(slot)]!
            guard let merge = record.history.last(where: { $0.isMerge && $0.from == from }) else {
                throw .conflict("profile \(record.id) has no recorded merge of \(from) (merged_from lists the ones it has)")
            }
            guard let first = touchpoint(named: merge.from, in: record), let second = touchpoint(named: merge.into, in: record) else {
                throw .conflict("cannot undo the merge of \(from): the first touchpoint of one side was dropped over the touchpoint cap")
            }
            return .keepApart(slot: slot, first: first, second: second)
        }
    }

    private func slot(of id: ProfileID) throws(StitcherOperationError) -> Int32 {
        guard let current = resolve(profileID: id), let slot = slotByProfileID[current] else { throw .notFound("no profile with id \(id)") }
        return slot
    }

    /// The touchpoint of `record` whose profile id would be `id` (the first touchpoint of the
    /// profile that had that id).
    private func touchpoint(named id: ProfileID, in record: ProfileRecord) -> StoredTouchpoint? {
        record.touchpoints.first { touchpoint in
            payloads.payload(of: touchpoint) { ProfileID(source: sources[$0.sourceIndex].utf8, messageID: $0.messageID) == id }
        }
    }

    /// Whether an event carries an identifier suppressed by an erasure (it must be refused).
    public func isSuppressed(_ event: NormalisedEvent) -> Bool {
        guard !suppressed.isEmpty else { return false }
        if event.identifiers.contains(where: { suppressed.contains(SuppressionDigest($0)) }) { return true }
        guard let previous = event.aliasPreviousID else { return false }
        return [IdentifierType.userID, .anonymousID].contains { suppressed.contains(SuppressionDigest(Identifier(type: $0, value: previous))) }
    }

    public var suppressedCount: Int { suppressed.count }

    /// The indices of the events that carry a suppressed identifier.
    public func suppressedIndices(in events: [NormalisedEvent]) -> [Int] {
        guard !suppressed.isEmpty else { return [] }
        return events.indices.filter { isSuppressed(events[$0]) }
    }

    /// Erases the profile in `slot`: its touchpoints (their bytes are overwritten), identifiers and
    /// summary leave memory and every later snapshot; its identifiers are forgotten (with
    /// `suppress`, kept only as digests so that later events carrying them are refused). The rest
    /// of its component is re-resolved without it.
    private mutating func erase(slot: Int32, suppress: Bool, cause: ResolutionCause) -> Erasure {
        let record = takeOut(slot)
        let members = record.identifierIDs.first.map { clusters.members(ofRoot: clusters.root(of: $0)) } ?? []
        var forgotten = record.identifierIDs
        for touchpoint in record.touchpoints {
            let (links, fingerprint, size) = payloads.payload(of: touchpoint) { payload in
                (
                    payload.links, MessageIndex.fingerprint(source: payload.sourceIndex, messageID: payload.messageID),
                    payload.size(propertiesLength: touchpoint.propertiesLength)
                )
            }
            // Values the erased events carried that no other customer owns are forgotten too.
            forgotten += links.filter { owner[Int($0)] < 0 || owner[Int($0)] == slot }
            messageIndex.remove(fingerprint, at: touchpoint.payload)
            payloads.overwrite(at: touchpoint.payload, count: size)
        }
        var suppressedNow = 0
        for identifier in Set(forgotten) where !identifierFlags[Int(identifier)].contains(.erased) {
            let value = identifierList[Int(identifier)]
            if suppress, suppressed.insert(SuppressionDigest(value)).inserted { suppressedNow += 1 }
            if owner[Int(identifier)] >= 0 {
                owner[Int(identifier)] = -1
                ownedIdentifierCount -= 1
            }
            identifierIDs.remove(identifier, hash: IdentifierIndex.hash(of: value))
            identifierList[Int(identifier)] = Identifier(type: value.type, value: "")
            identifierFlags[Int(identifier)].insert(.erased)
        }
        counters.erasures += 1
        resolve(members, cause: cause)
        return Erasure(profileID: record.id, touchpoints: record.touchpoints.count, identifiers: record.identifierIDs.count, suppressed: suppressedNow)
    }

    /// Re-resolves the component of `component` after a split and records the split.
    private mutating func splitResolving(
        _ before: ProfileRecord, component: UInt32, cause: ResolutionCause, splitCause: MergeRecord.SplitCause
    ) -> Split {
        let members = clusters.members(ofRoot: clusters.root(of: component))
        let newSlots = resolve(members, cause: cause)
        let moved = Set(before.touchpoints.map(\.payload))
        var after: [ProfileID] = []
        for slot in newSlots {
            let record = profiles[Int(slot)]!
            if record.touchpoints.contains(where: { moved.contains($0.payload) }) { after.append(record.id) }
        }
        after.sort()
        counters.splits += 1
        for id in after where id != before.id {
            splitLog.append(
                MergeRecord(from: before.id, into: id, at: Timestamp(millisecondsSinceEpoch: cause.at), messageID: nil, reason: .split(splitCause)))
        }
        return Split(profileID: before.id, profiles: after)
    }
}
