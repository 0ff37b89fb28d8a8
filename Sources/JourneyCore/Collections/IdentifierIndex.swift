/// Interned identifiers → their ids, without a second copy of the identifiers: an entry is an id
/// and the low 32 bits of its identifier's hash (8 bytes), and a candidate is confirmed against
/// the interned identifier itself (`matches`), as `MessageIndex` confirms message ids. An
/// identifier's two strings are hashed once per lookup (`hash(of:)`, a seeded `Hasher`), and
/// nothing is hashed again when the table grows. The entries live in a `ShardedProbeTable`.
/// A value type; one owner mutates it.
struct IdentifierIndex {
    private struct Entry: ProbeTableEntry {
        /// The low bits of the identifier's hash.
        var tag: UInt32
        /// `UInt32.max` marks an empty slot (ids are positions in the identifier list).
        var id: UInt32

        static let empty = Entry(tag: 0, id: .max)
        var isEmpty: Bool { id == .max }
        var slotBits: UInt64 { UInt64(tag) }
    }

    private var table = ShardedProbeTable<Entry>()

    var count: Int { table.count }

    /// The value's bytes, its length, then the type's bytes, through one seeded `Hasher`: the
    /// length keeps (`ab`, `c`) and (`a`, `bc`) apart. Hashing the bytes directly, rather than as
    /// `String`s, saves retaining each string and a hasher pass per string.
    static func hash(type: IdentifierType, value: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: value)
        hasher.combine(value.count)
        withUTF8Bytes(of: type.rawValue) { hasher.combine(bytes: $0) }
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }

    static func hash(of identifier: Identifier) -> UInt64 {
        withUTF8Bytes(of: identifier.value) { hash(type: identifier.type, value: $0) }
    }

    /// The id stored under `hash` whose interned identifier `matches`.
    func id(hash: UInt64, where matches: (UInt32) -> Bool) -> UInt32? {
        let tag = UInt32(truncatingIfNeeded: hash)
        return table.first(hash: hash) { $0.tag == tag && matches($0.id) }?.id
    }

    /// Adds `id` under its identifier's hash; the caller has checked that it is not stored yet.
    mutating func insert(_ id: UInt32, hash: UInt64) {
        table.insert(Entry(tag: UInt32(truncatingIfNeeded: hash), id: id), hash: hash)
    }

    mutating func remove(_ id: UInt32, hash: UInt64) {
        table.remove(hash: hash) { $0.id == id }
    }

    /// Makes room for `total` identifiers (at recovery).
    mutating func reserveCapacity(_ total: Int) {
        table.reserveCapacity(total)
    }
}
