import Testing

@testable import JourneyCore

/// `NameTable` answers from a small cache of recent names before its dictionary; whatever the
/// cache holds, a name keeps its index.
@Suite struct NameTableTests {
    @Test func namesKeepTheirIndexWhateverTheCacheHolds() {
        var table = NameTable()
        // More names than cache slots, several of one length and end bytes (one slot), in
        // shuffled repeats, plus the empty name and a non-ASCII one.
        let names = (0..<40).map { "Event \($0 % 10)x\($0)" } + ["", "Ünïcode événement", "Product Viewed", "Product Viewed!"]
        let first = names.map { table.intern($0) }
        #expect(first == Array(0..<UInt32(names.count)))
        for name in (names + names.reversed()).shuffled() {
            let expected = UInt32(names.firstIndex(of: name)!)
            #expect(table.intern(name) == expected)
            #expect(table.index(of: name) == expected)
            #expect(table[expected] == name)
        }
        #expect(table.index(of: "never interned") == nil)
        #expect(table.names.count == names.count)
    }
}
