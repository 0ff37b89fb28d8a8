import Crypto

/// A one-way digest of an identifier (type and value): what an erasure with suppression keeps so
/// that later events carrying the identifier are refused, without keeping the value itself.
/// The first 128 bits of SHA-256 over the type, a zero byte and the value.
struct SuppressionDigest: Hashable {
    var high: UInt64
    var low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ identifier: Identifier) {
        var hasher = SHA256()
        hasher.update(data: Array(identifier.type.rawValue.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(identifier.value.utf8))
        let digest = Array(hasher.finalize())
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(digest[index])
            low = low << 8 | UInt64(digest[8 + index])
        }
        self.init(high: high, low: low)
    }

    /// The first 64 bits as 16 hex digits (a name for logs).
    var hex: String { StableHash(value: high).hex }
}
