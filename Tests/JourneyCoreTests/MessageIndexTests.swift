import Testing

@testable import JourneyCore

@Suite struct MessageIndexTests {
    private static func location(_ n: Int) -> PayloadLocation {
        PayloadLocation(block: UInt32(n >> 16), offset: UInt32(n & 0xffff))
    }

    /// Entries with the same fingerprint are told apart by their payload: a collision never makes
    /// a new message look stored, and removing one leaves the other.
    @Test func equalFingerprintsAreConfirmedByThePayload() {
        var index = MessageIndex()
        index.insert(42, at: Self.location(1))
        index.insert(42, at: Self.location(2))
        #expect(index.count == 2)
        #expect(index.first(42) { $0 == Self.location(2) } != nil)
        #expect(index.first(42) { $0 == Self.location(3) } == nil)
        index.remove(42, at: Self.location(1))
        #expect(index.count == 1)
        #expect(index.first(42) { $0 == Self.location(1) } == nil)
        #expect(index.first(42) { $0 == Self.location(2) } != nil)
    }

    /// Random inserts and removals, with fingerprints crowded into few slots so probe runs wrap
    /// and removals shift entries back, agree with a `Set` at every step and across growth.
    @Test func agreesWithASetUnderRandomInsertsAndRemovals() {
        var index = MessageIndex()
        var model: [Int: UInt64] = [:]
        var random = SystemRandomNumberGenerator()
        for step in 0..<6_000 {
            // One shard and few distinct fingerprints: long runs of equal home slots.
            let fingerprint = UInt64.random(in: 1...40, using: &random) | (UInt64(7) << 56)
            if step % 3 == 2, let (key, stored) = model.randomElement(using: &random) {
                index.remove(stored, at: Self.location(key))
                model[key] = nil
            } else {
                index.insert(fingerprint, at: Self.location(step))
                model[step] = fingerprint
            }
        }
        #expect(index.count == model.count)
        for (key, fingerprint) in model {
            #expect(index.first(fingerprint) { $0 == Self.location(key) } != nil)
        }
        let removed = (0..<6_000).filter { model[$0] == nil }
        #expect(!removed.isEmpty)
        for key in removed.prefix(200) {
            #expect(!(1...40).contains { index.first(UInt64($0) | (UInt64(7) << 56)) { $0 == Self.location(key) } != nil })
        }
    }

    @Test func reservedCapacityHoldsEverythingInserted() {
        var index = MessageIndex()
        index.reserveCapacity(10_000)
        for n in 1...10_000 { index.insert(UInt64(n) &* 0x9E37_79B9_7F4A_7C15, at: Self.location(n)) }
        #expect(index.count == 10_000)
        #expect((1...10_000).allSatisfy { n in index.first(UInt64(n) &* 0x9E37_79B9_7F4A_7C15) { $0 == Self.location(n) } != nil })
    }
}
