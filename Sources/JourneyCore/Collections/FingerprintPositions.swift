/// The first position of each dedup fingerprint within one batch (`Stitcher.unstored(in:)`):
/// open addressing on the fingerprint's own bits. Fingerprints are already seeded hashes, so the
/// second hash a `Dictionary` would compute for every event is wasted work. Sized once for the
/// batch; a value type local to one call.
struct FingerprintPositions {
    /// Fingerprint 0 marks an empty slot (`MessageIndex.fingerprint` never returns 0).
    private var slots: [(fingerprint: UInt64, position: Int)]
    private let mask: Int

    /// Room for `count` fingerprints at a load of at most one half.
    init(count: Int) {
        let size = 1 << max(4, Int.bitWidth - (2 * count).leadingZeroBitCount)
        slots = Array(repeating: (0, 0), count: size)
        mask = size - 1
    }

    /// The position recorded for `fingerprint`; nil after recording `position` for it.
    mutating func first(_ fingerprint: UInt64, orRecord position: Int) -> Int? {
        var slot = Int(truncatingIfNeeded: fingerprint) & mask
        while slots[slot].fingerprint != 0 {
            if slots[slot].fingerprint == fingerprint { return slots[slot].position }
            slot = (slot + 1) & mask
        }
        slots[slot] = (fingerprint, position)
        return nil
    }
}
