/// Interns short strings (sources, channels, event names) so touchpoints store a small index.
/// Indexes depend on arrival order, so they are never compared for ordering — only names are.
struct NameTable {
    private var indexByName: [String: UInt32] = [:]
    private(set) var names: [String] = []
    /// Each name as a JSON string literal (quoted and escaped), for writing snapshot rows.
    private(set) var quotedNames: [[UInt8]] = []
    /// The last name interned: consecutive events mostly share their source and channel, and
    /// comparing two short strings is cheaper than hashing one.
    private var lastHit: (name: String, index: UInt32)?

    mutating func intern(_ name: String) -> UInt32 {
        if let lastHit, lastHit.name == name { return lastHit.index }
        let index = indexByName[name] ?? add(name)
        lastHit = (name, index)
        return index
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
        if let lastHit, lastHit.name == name { return lastHit.index }
        return indexByName[name]
    }

    subscript(index: UInt32) -> String {
        names[Int(index)]
    }
}
