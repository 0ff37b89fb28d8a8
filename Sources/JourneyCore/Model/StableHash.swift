/// A 64-bit FNV-1a hash: the same bytes give the same value on every run and machine
/// (unlike `Hasher`, which is seeded per process). Used for ids that must be reproducible.
struct StableHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    init() {}

    /// A hash already computed (to print it with `hex`).
    init(value: UInt64) {
        self.value = value
    }

    mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
    }

    mutating func combineSeparator() {
        combine(CollectionOfOne(0xff))
    }

    /// 16 lower-case hex digits.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        var rest = value
        for index in stride(from: 15, through: 0, by: -1) {
            out[index] = digits[Int(rest & 0xf)]
            rest >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}
