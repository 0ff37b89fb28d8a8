/// A key that picks its own shard in a `ShardedDictionary`, so that each access hashes the key
/// once (inside its shard's `Dictionary`) instead of twice.
protocol ShardedKey: Hashable {
    /// Bits whose low byte is spread evenly over the keys in use: a key that is itself a hash,
    /// or a dense id.
    var shardSelector: UInt64 { get }
}

extension ProfileID: ShardedKey {
    /// The id is a stable hash already.
    var shardSelector: UInt64 { value }
}

extension UInt32: ShardedKey {
    /// Identifier ids are dense positions, so consecutive ids fall in consecutive shards.
    var shardSelector: UInt64 { UInt64(self) }
}

/// A dictionary split into 256 shards by the key's own bits (`ShardedKey`), so that after a
/// snapshot copies it (copy-on-write), a later write copies one shard instead of every entry. A
/// value type; one owner mutates it. Iteration order is unspecified (as for `Dictionary`).
struct ShardedDictionary<Key: ShardedKey, Value> {
    static var shardBits: Int { 8 }

    private var shards: [[Key: Value]] = Array(repeating: [:], count: 1 << shardBits)
    private(set) var count = 0

    init() {}

    @inline(__always)
    private static func shard(of key: Key) -> Int {
        Int(truncatingIfNeeded: key.shardSelector & ((1 << shardBits) - 1))
    }

    subscript(key: Key) -> Value? {
        get { shards[Self.shard(of: key)][key] }
        set {
            let shard = Self.shard(of: key)
            if let newValue {
                if shards[shard].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[shard].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    /// Makes room for `total` entries in all, spread over the shards, so that filling the
    /// dictionary (e.g. at recovery) does not rehash as it grows.
    mutating func reserveCapacity(_ total: Int) {
        let perShard = ShardedCapacity.perShard(total, shards: shards.count)
        for index in shards.indices { shards[index].reserveCapacity(perShard) }
    }

    /// Every entry, shard by shard.
    var entries: FlattenSequence<[[Key: Value]]> { shards.joined() }
}

extension ShardedDictionary: Sendable where Key: Sendable, Value: Sendable {}

enum ShardedCapacity {
    /// A shard's share of `total` entries with room for the uneven spread of hashes (a few
    /// standard deviations above the mean).
    static func perShard(_ total: Int, shards: Int) -> Int {
        let mean = Double(max(total, 0)) / Double(shards)
        return Int(mean + 4 * mean.squareRoot()) + 16
    }
}
