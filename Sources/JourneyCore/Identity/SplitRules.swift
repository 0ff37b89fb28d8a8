/// The splits operators made by undoing a merge: pairs of touchpoints whose customers must stay
/// apart. Placing one side's touchpoint pins its profile with that side (`ProfileRecord.pins`);
/// merge protection refuses to join two profiles pinned with the two sides of one rule.
///
/// A rule's sides are pin numbers `2 × rule` and `2 × rule + 1`, so the other side of pin `p` is
/// `p ^ 1`. Touchpoints are named by their canonical key (which survives restarts) and found by
/// their current payload location. A value type; one owner (the `Stitcher`).
struct SplitRules {
    struct Rule {
        var first: TouchKey
        var second: TouchKey
    }

    private(set) var rules: [Rule] = []
    private var pinByLocation: [PayloadLocation: UInt32] = [:]

    var isEmpty: Bool { rules.isEmpty }

    mutating func add(first: TouchKey, at firstLocation: PayloadLocation?, second: TouchKey, at secondLocation: PayloadLocation?) {
        let pin = UInt32(rules.count * 2)
        rules.append(Rule(first: first, second: second))
        if let firstLocation { pinByLocation[firstLocation] = pin }
        if let secondLocation { pinByLocation[secondLocation] = pin + 1 }
    }

    /// The pin a touchpoint at `location` gives its profile, if it is one side of a rule.
    func pin(at location: PayloadLocation) -> UInt32? {
        pinByLocation.isEmpty ? nil : pinByLocation[location]
    }

    /// Whether profiles pinned with `lhs` and `rhs` hold the two sides of some rule.
    static func conflict(_ lhs: [UInt32], _ rhs: [UInt32]) -> Bool {
        guard !lhs.isEmpty, !rhs.isEmpty else { return false }
        return lhs.contains { rhs.contains($0 ^ 1) }
    }
}
