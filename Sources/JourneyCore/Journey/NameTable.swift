/// Interns short strings (sources, channels, event names) so touchpoints store a small index.
/// Indexes depend on arrival order, so they are never compared for ordering — only names are.
struct NameTable {
    private var indexByName: [String: UInt32] = [:]
    private(set) var names: [String] = []
    /// Each name as a JSON string literal (quoted and escaped), for writing snapshot rows.
    private(set) var quotedNames: [[UInt8]] = []
    /// Names interned recently, each in the slot its length and end bytes pick (`recentSlot`):
    /// consecutive events mostly share their source and channel and repeat a few event names,
    /// and comparing a name with one candidate is cheaper than hashing it. A slot two names
    /// share holds the later one; the other is found in `indexByName`.
    private var recent = [(name: String, index: UInt32)?](repeating: nil, count: 16)

    mutating func intern(_ name: String) -> UInt32 {
        let slot = Self.recentSlot(of: name)
        if let index = recentIndex(of: name, slot: slot) { return index }
        let index = indexByName[name] ?? add(name)
        recent[slot] = (name, index)
        return index
    }

    private func recentIndex(of name: String, slot: Int) -> UInt32? {
        guard let hit = recent[slot], hit.name.utf8.count == name.utf8.count, hit.name == name else { return nil }
        return hit.index
    }

    private static func recentSlot(of name: String) -> Int {
        let utf8 = name.utf8
        guard let first = utf8.first, let last = utf8.last else { return 0 }
        return (utf8.count &+ Int(first) &* 3 &+ Int(last) &* 5) & 15
    }

    private mutating func add(_ name: String) -> UInt32 {
        let index = UInt32(names.count)
        names.append(name)
        var quoted = JSONWriter(capacity: name.utf8.count + 2)
        quoted.string(name)
        quotedNames.append(quoted.bytes)
        indexByName[name] = index
        return index
    }

    func index(of name: String) -> UInt32? {
        recentIndex(of: name, slot: Self.recentSlot(of: name)) ?? indexByName[name]
    }

    subscript(index: UInt32) -> String {
        names[Int(index)]
    }
}
