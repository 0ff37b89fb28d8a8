/// Interned identifiers → their ids: a `ShardedDictionary` whose keys carry their hash. Hashing an
/// identifier means hashing its two strings; a plain sharded dictionary does that twice per
/// lookup (once to pick the shard, once inside it) and again for every key each time a shard
/// grows. Here the strings are hashed once per lookup, and growth rehashes only the stored hash.
/// Costs 8 bytes per identifier. A value type; one owner mutates it.
struct IdentifierIndex {
    private struct Key: Hashable {
        let identifier: Identifier
        let hash: Int

        init(_ identifier: Identifier) {
            self.identifier = identifier
            hash = identifier.hashValue
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.hash == rhs.hash && lhs.identifier == rhs.identifier
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(hash)
        }
    }

    private var ids = ShardedDictionary<Key, UInt32>()

    var count: Int { ids.count }

    subscript(identifier: Identifier) -> UInt32? {
        get { ids[Key(identifier)] }
        set { ids[Key(identifier)] = newValue }
    }

    /// Makes room for `total` identifiers (at recovery).
    mutating func reserveCapacity(_ total: Int) {
        ids.reserveCapacity(total)
    }
}
