/// The six life-cycle phases a touchpoint can belong to, in their natural order.
public enum Phase: String, CaseIterable, Sendable, Comparable {
    case discover, explore, buy, use, ask, engage

    public static func < (lhs: Phase, rhs: Phase) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
