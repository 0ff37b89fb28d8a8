/// A profile's id: a stable 64-bit hash of the source and message id of the profile's earliest
/// touchpoint, written `p_` + 16 lower-case hex digits. Kept as the integer (no allocation, cheap
/// to hash and to sort: the text order of the ids is their numeric order).
public struct ProfileID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(value: UInt64) {
        self.value = value
    }

    /// The id of a profile whose earliest touchpoint has this source and message id.
    init(source: some Sequence<UInt8>, messageID: some Sequence<UInt8>) {
        var hash = StableHash()
        hash.combine(source)
        hash.combineSeparator()
        hash.combine(messageID)
        value = hash.value
    }

    /// Parses `p_` + 16 lower-case hex digits; nil for anything else.
    public init?(_ text: String) {
        var text = text
        let parsed = text.withUTF8 { bytes -> UInt64? in
            guard bytes.count == 18, bytes[0] == UInt8(ascii: "p"), bytes[1] == UInt8(ascii: "_") else { return nil }
            var value: UInt64 = 0
            for byte in bytes[2...] {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
                default: return nil
                }
            }
            return value
        }
        guard let parsed else { return nil }
        value = parsed
    }

    public var description: String { "p_" + StableHash(value: value).hex }

    /// Bytes `writeQuoted` writes.
    static let quotedLength = 20

    /// Writes the id as a JSON string (`"p_…"`, `quotedLength` bytes) at `out`; returns how many
    /// bytes it wrote.
    func writeQuoted(to out: UnsafeMutablePointer<UInt8>) -> Int {
        let digits: StaticString = "0123456789abcdef"
        out[0] = UInt8(ascii: "\"")
        out[1] = UInt8(ascii: "p")
        out[2] = UInt8(ascii: "_")
        var rest = value
        for index in stride(from: 18, through: 3, by: -1) {
            out[index] = digits.utf8Start[Int(rest & 0xf)]
            rest >>= 4
        }
        out[19] = UInt8(ascii: "\"")
        return Self.quotedLength
    }

    public static func < (lhs: ProfileID, rhs: ProfileID) -> Bool { lhs.value < rhs.value }
}
