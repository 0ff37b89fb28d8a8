/// The dedup index: which (source, message id) pairs are stored. It keeps a 64-bit fingerprint of
/// each pair and the location of the touchpoint payload that holds the pair itself, so a
/// fingerprint match is confirmed against the real bytes (a collision never drops an event) and
/// an entry costs 16 bytes instead of a `String` per message.
///
/// Fingerprints come from `Hasher`, seeded per process, so senders cannot choose colliding
/// message ids; they are never persisted. The table is split into 256 open-addressing shards
/// (linear probing, at most 3/4 full) by the fingerprint's top bits, so that after a snapshot
/// copies it (copy-on-write) a later write copies one shard. A value type; one owner mutates it.
struct MessageIndex {
    private struct Entry {
        /// 0 marks an empty slot (no fingerprint is 0).
        var fingerprint: UInt64
        var location: PayloadLocation

        static let empty = Entry(fingerprint: 0, location: PayloadLocation(block: 0, offset: 0))
    }

    private struct Shard {
        var entries: [Entry] = []
        var count = 0

        var mask: Int { entries.count - 1 }
    }

    private static let shardBits = 8
    private var shards = [Shard](repeating: Shard(), count: 1 << MessageIndex.shardBits)
    private(set) var count = 0

    static func fingerprint(source: UInt32, messageID: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(source)
        hasher.combine(bytes: messageID)
        let value = UInt64(UInt(bitPattern: hasher.finalize()))
        return value == 0 ? 1 : value
    }

    private static func shard(of fingerprint: UInt64) -> Int {
        Int(truncatingIfNeeded: fingerprint >> UInt64(64 - shardBits))
    }

    /// The location of the entry with this fingerprint whose payload `matches`, if one is stored.
    func first(_ fingerprint: UInt64, where matches: (PayloadLocation) -> Bool) -> PayloadLocation? {
        let shard = shards[Self.shard(of: fingerprint)]
        guard !shard.entries.isEmpty else { return nil }
        var slot = Int(truncatingIfNeeded: fingerprint) & shard.mask
        while shard.entries[slot].fingerprint != 0 {
            if shard.entries[slot].fingerprint == fingerprint && matches(shard.entries[slot].location) { return shard.entries[slot].location }
            slot = (slot + 1) & shard.mask
        }
        return nil
    }

    /// Adds an entry; the caller has checked that the pair is not stored yet.
    mutating func insert(_ fingerprint: UInt64, at location: PayloadLocation) {
        let index = Self.shard(of: fingerprint)
        if (shards[index].count + 1) * 4 > shards[index].entries.count * 3 {
            grow(shard: index, to: max(16, shards[index].entries.count * 2))
        }
        Self.place(Entry(fingerprint: fingerprint, location: location), in: &shards[index])
        shards[index].count += 1
        count += 1
    }

    /// Removes the entry for the payload at `location`, if present.
    mutating func remove(_ fingerprint: UInt64, at location: PayloadLocation) {
        let index = Self.shard(of: fingerprint)
        guard !shards[index].entries.isEmpty else { return }
        let mask = shards[index].mask
        var hole = Int(truncatingIfNeeded: fingerprint) & mask
        while shards[index].entries[hole].fingerprint != 0 {
            if shards[index].entries[hole].fingerprint == fingerprint && shards[index].entries[hole].location == location { break }
            hole = (hole + 1) & mask
        }
        guard shards[index].entries[hole].fingerprint != 0 else { return }
        // Backward-shift deletion: pull later entries of the probe run into the hole when their
        // home slot allows it, so lookups never need tombstones.
        var next = (hole + 1) & mask
        while shards[index].entries[next].fingerprint != 0 {
            let home = Int(truncatingIfNeeded: shards[index].entries[next].fingerprint) & mask
            if (next - home) & mask >= (next - hole) & mask {
                shards[index].entries[hole] = shards[index].entries[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        shards[index].entries[hole] = .empty
        shards[index].count -= 1
        count -= 1
    }

    /// Makes room for `total` entries in all, so that filling the index (at recovery) does not
    /// rehash as it grows.
    mutating func reserveCapacity(_ total: Int) {
        let perShard = ShardedCapacity.perShard(total, shards: shards.count) * 4 / 3 + 1
        var capacity = 16
        while capacity < perShard { capacity *= 2 }
        for index in shards.indices where shards[index].entries.count < capacity {
            grow(shard: index, to: capacity)
        }
    }

    private mutating func grow(shard index: Int, to capacity: Int) {
        var grown = Shard(entries: [Entry](repeating: .empty, count: capacity), count: shards[index].count)
        for entry in shards[index].entries where entry.fingerprint != 0 {
            Self.place(entry, in: &grown)
        }
        shards[index] = grown
    }

    private static func place(_ entry: Entry, in shard: inout Shard) {
        var slot = Int(truncatingIfNeeded: entry.fingerprint) & shard.mask
        while shard.entries[slot].fingerprint != 0 { slot = (slot + 1) & shard.mask }
        shard.entries[slot] = entry
    }
}
