/// Interns short strings (sources, channels, event names) so touchpoints store a small index.
/// Indexes depend on arrival order, so they are never compared for ordering — only names are.
struct NameTable {
    private var indexByName: [String: UInt32] = [:]
    private(set) var names: [String] = []

    mutating func intern(_ name: String) -> UInt32 {
        if let index = indexByName[name] { return index }
        let index = UInt32(names.count)
        names.append(name)
        indexByName[name] = index
        return index
    }

    func index(of name: String) -> UInt32? {
        indexByName[name]
    }

    subscript(index: UInt32) -> String {
        names[Int(index)]
    }
}
