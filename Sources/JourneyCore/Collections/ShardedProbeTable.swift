import CMemoryHints

/// What a `ShardedProbeTable` stores: a small trivial value that refers to its key (a payload
/// location, an interned id) instead of holding it, and keeps the low bits of the key's hash.
protocol ProbeTableEntry: Sendable {
    /// The value of a free slot.
    static var empty: Self { get }
    var isEmpty: Bool { get }
    /// The low bits of the hash the entry was inserted under (at least 32 of them): they choose
    /// its slot, also when a shard grows, so that nothing is hashed again.
    var slotBits: UInt64 { get }
}

/// A hash table of small entries whose keys live elsewhere: the caller hashes a key once
/// (with a seeded `Hasher`) and confirms each candidate against the real key (`matches`), so a
/// collision never confuses two keys and no key is copied into the table. Open addressing
/// (linear probing, at most 3/4 full, backward-shift deletion) in 256 shards chosen by the
/// hash's top bits, so that after a snapshot copies the table (copy-on-write) a later write
/// copies one shard. `MessageIndex` and `IdentifierIndex` are built on it. A value type; one
/// owner mutates it.
struct ShardedProbeTable<Entry: ProbeTableEntry>: Sendable {
    private struct Shard: Sendable {
        private(set) var entries: [Entry] = []
        var count = 0
        /// `entries.count - 1`, kept here so that `prefetch(hash:)` reads nothing of the
        /// entries' storage (whose header holds their count) before its load arrives.
        private(set) var mask = -1

        init() {}

        init(capacity: Int, count: Int) {
            entries = [Entry](repeating: .empty, count: capacity)
            self.count = count
            mask = capacity - 1
        }

        var capacity: Int { mask + 1 }

        subscript(slot: Int) -> Entry {
            get { entries[slot] }
            set { entries[slot] = newValue }
        }
    }

    private static var shardBits: Int { 8 }
    private var shards = [Shard](repeating: Shard(), count: 1 << Self.shardBits)
    private(set) var count = 0

    private static func shard(of hash: UInt64) -> Int {
        Int(truncatingIfNeeded: hash >> UInt64(64 - shardBits))
    }

    /// The first entry stored under `hash` that `matches`. Probes through the shard's raw words
    /// (`withEntries`): reached through the array, every lookup would also read the entries'
    /// storage header for its bounds check, a cache miss of its own in a table this large.
    func first(hash: UInt64, where matches: (Entry) -> Bool) -> Entry? {
        withEntries(ofShardFor: hash) { entries, mask in
            var slot = Int(truncatingIfNeeded: hash) & mask
            while !entries[slot].isEmpty {
                if matches(entries[slot]) { return entries[slot] }
                slot = (slot + 1) & mask
            }
            return nil
        } ?? nil
    }

    /// Starts loading the slot where a lookup or insertion under `hash` begins. The table is far
    /// larger than the CPU's caches, so each lookup waits for memory; a batch that announces the
    /// hashes it will look up a few steps ahead has those loads overlap instead.
    func prefetch(hash: UInt64) {
        if let slot = homeSlotAddress(hash: hash) { journeyd_prefetch(slot) }
    }

    /// The address of the slot where a lookup under `hash` begins; nil while its shard is empty.
    func homeSlotAddress(hash: UInt64) -> UnsafeRawPointer? {
        withEntries(ofShardFor: hash) { entries, mask in UnsafeRawPointer(entries + (Int(truncatingIfNeeded: hash) & mask)) }
    }

    /// Calls `body` with the first entry and the mask of the shard `hash` falls in; nil while
    /// that shard is empty. Both are read from the shard's raw words (`StorageAddress`), so
    /// nothing of the entries' storage is read before `body` reads an entry: reaching the entries
    /// through their buffer or a copy would first read the storage's header, a load as slow as
    /// the one it precedes. Every slot `slot & mask` is in bounds (`mask` is the capacity − 1).
    private func withEntries<Result>(ofShardFor hash: UInt64, _ body: (UnsafePointer<Entry>, Int) -> Result) -> Result? {
        shards.withUnsafeBufferPointer { shards in
            let shard = UnsafeRawPointer(shards.baseAddress! + Self.shard(of: hash))
            let mask = shard.load(fromByteOffset: Self.maskOffset, as: Int.self)
            guard mask >= 0, let storage = UnsafeRawPointer(bitPattern: shard.load(fromByteOffset: Self.entriesOffset, as: UInt.self)) else {
                return nil
            }
            return body((storage + StorageAddress.arrayElementsOffset).assumingMemoryBound(to: Entry.self), mask)
        }
    }

    private static var entriesOffset: Int { MemoryLayout<Shard>.offset(of: \Shard.entries)! }
    private static var maskOffset: Int { MemoryLayout<Shard>.offset(of: \Shard.mask)! }

    /// Adds an entry under `hash` (whose low bits are `entry.slotBits`); the caller has checked
    /// that its key is not stored yet.
    mutating func insert(_ entry: Entry, hash: UInt64) {
        let index = Self.shard(of: hash)
        if (shards[index].count + 1) * 4 > shards[index].capacity * 3 {
            grow(shard: index, to: max(16, shards[index].capacity * 2))
        }
        Self.place(entry, in: &shards[index])
        shards[index].count += 1
        count += 1
    }

    /// Removes the first entry stored under `hash` that `matches`, if there is one.
    mutating func remove(hash: UInt64, where matches: (Entry) -> Bool) {
        let index = Self.shard(of: hash)
        guard shards[index].mask >= 0 else { return }
        let mask = shards[index].mask
        var hole = Int(truncatingIfNeeded: hash) & mask
        while !shards[index][hole].isEmpty {
            if matches(shards[index][hole]) { break }
            hole = (hole + 1) & mask
        }
        guard !shards[index][hole].isEmpty else { return }
        // Pull later entries of the probe run into the hole when their home slot allows it, so
        // lookups never need tombstones.
        var next = (hole + 1) & mask
        while !shards[index][next].isEmpty {
            let home = Int(truncatingIfNeeded: shards[index][next].slotBits) & mask
            if (next - home) & mask >= (next - hole) & mask {
                shards[index][hole] = shards[index][next]
                hole = next
            }
            next = (next + 1) & mask
        }
        shards[index][hole] = .empty
        shards[index].count -= 1
        count -= 1
    }

    /// Makes room for `total` entries in all, so that filling the table (at recovery) does not
    /// rehash as it grows.
    mutating func reserveCapacity(_ total: Int) {
        let perShard = ShardedCapacity.perShard(total, shards: shards.count) * 4 / 3 + 1
        var capacity = 16
        while capacity < perShard { capacity *= 2 }
        for index in shards.indices where shards[index].capacity < capacity {
            grow(shard: index, to: capacity)
        }
    }

    private mutating func grow(shard index: Int, to capacity: Int) {
        var grown = Shard(capacity: capacity, count: shards[index].count)
        for entry in shards[index].entries where !entry.isEmpty {
            Self.place(entry, in: &grown)
        }
        shards[index] = grown
    }

    private static func place(_ entry: Entry, in shard: inout Shard) {
        var slot = Int(truncatingIfNeeded: entry.slotBits) & shard.mask
        while !shard[slot].isEmpty { slot = (slot + 1) & shard.mask }
        shard[slot] = entry
    }
}
