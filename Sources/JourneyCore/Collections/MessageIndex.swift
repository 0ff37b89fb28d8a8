/// The dedup index: which (source, message id) pairs are stored. It keeps a 64-bit fingerprint of
/// each pair and the location of the touchpoint payload that holds the pair itself, so a
/// fingerprint match is confirmed against the real bytes (a collision never drops an event) and
/// an entry costs 16 bytes instead of a `String` per message.
///
/// Fingerprints come from `Hasher`, seeded per process, so senders cannot choose colliding
/// message ids; they are never persisted. The entries live in a `ShardedProbeTable`. A value
/// type; one owner mutates it.
struct MessageIndex {
    private struct Entry: ProbeTableEntry {
        /// 0 marks an empty slot (no fingerprint is 0).
        var fingerprint: UInt64
        var location: PayloadLocation

        static let empty = Entry(fingerprint: 0, location: PayloadLocation(block: 0, offset: 0))
        var isEmpty: Bool { fingerprint == 0 }
        var slotBits: UInt64 { fingerprint }
    }

    private var table = ShardedProbeTable<Entry>()
    var count: Int { table.count }

    static func fingerprint(source: UInt32, messageID: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(source)
        hasher.combine(bytes: messageID)
        let value = UInt64(UInt(bitPattern: hasher.finalize()))
        return value == 0 ? 1 : value
    }

    static func fingerprint(source: UInt32, messageID: String) -> UInt64 {
        withUTF8Bytes(of: messageID) { fingerprint(source: source, messageID: $0) }
    }

    /// The location of the entry with this fingerprint whose payload `matches`, if one is stored.
    func first(_ fingerprint: UInt64, where matches: (PayloadLocation) -> Bool) -> PayloadLocation? {
        table.first(hash: fingerprint) { $0.fingerprint == fingerprint && matches($0.location) }?.location
    }

    /// Starts loading the slot of `fingerprint` (`ShardedProbeTable.prefetch(hash:)`).
    func prefetch(_ fingerprint: UInt64) {
        table.prefetch(hash: fingerprint)
    }

    /// Adds an entry; the caller has checked that the pair is not stored yet.
    mutating func insert(_ fingerprint: UInt64, at location: PayloadLocation) {
        table.insert(Entry(fingerprint: fingerprint, location: location), hash: fingerprint)
    }

    /// Removes the entry for the payload at `location`, if present.
    mutating func remove(_ fingerprint: UInt64, at location: PayloadLocation) {
        table.remove(hash: fingerprint) { $0.fingerprint == fingerprint && $0.location == location }
    }

    /// Makes room for `total` entries in all, so that filling the index (at recovery) does not
    /// rehash as it grows.
    mutating func reserveCapacity(_ total: Int) {
        table.reserveCapacity(total)
    }
}
