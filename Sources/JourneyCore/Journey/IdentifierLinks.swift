/// The interned identifiers one touchpoint's event carried. Most events carry one or two, so those
/// are stored inline (no heap allocation per touchpoint); more spill into an array.
struct IdentifierLinks: Sequence, Equatable {
    private static let none = UInt32.max
    private var first = IdentifierLinks.none
    private var second = IdentifierLinks.none
    private var rest: [UInt32]?

    init(_ identifiers: [UInt32]) {
        if identifiers.count > 0 { first = identifiers[0] }
        if identifiers.count > 1 { second = identifiers[1] }
        if identifiers.count > 2 { rest = Array(identifiers[2...]) }
    }

    var count: Int {
        (first == Self.none ? 0 : 1) + (second == Self.none ? 0 : 1) + (rest?.count ?? 0)
    }

    func makeIterator() -> IndexingIterator<[UInt32]> {
        var all: [UInt32] = []
        if first != Self.none { all.append(first) }
        if second != Self.none { all.append(second) }
        all += rest ?? []
        return all.makeIterator()
    }
}
