import JourneyCore

/// A minimal append-only JSON text builder for the corpus generators (journeybench, `journeyctl
/// simulate`): keys in the order written, commas managed per open container, strings escaped as
/// RFC 8259 requires. Not the daemon's `JSONWriter` on purpose — generated input should not depend
/// on the code it exercises. A plain value owned by one generator.
public struct ByteJSON: Sendable {
    public var bytes: [UInt8] = []
    /// Per open container: true while nothing has been written into it yet.
    private var empty: [Bool] = []

    public init(capacity: Int = 2048) {
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    // MARK: structure

    @inline(__always)
    private mutating func separator() {
        if let last = empty.last {
            if last { empty[empty.count - 1] = false } else { bytes.append(UInt8(ascii: ",")) }
        }
    }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        empty.append(true)
    }

    public mutating func beginObject(_ key: StaticString) {
        self.key(key)
        bytes.append(UInt8(ascii: "{"))
        empty.append(true)
    }

    public mutating func endObject() {
        empty.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray(_ key: StaticString) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        empty.append(true)
    }

    public mutating func endArray() {
        empty.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `,"key":` (the comma when needed); the caller writes the value.
    public mutating func key(_ key: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes `,"key":` for a key known only at run time (escaped like any string).
    public mutating func dynamicKey(_ key: String) {
        separator()
        quoted(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// An already-serialised JSON value as the next array element.
    public mutating func element(raw: some Collection<UInt8>) {
        separator()
        bytes.append(contentsOf: raw)
    }

    // MARK: members

    public mutating func string(_ key: StaticString, _ value: String) {
        self.key(key)
        quoted(value)
    }

    public mutating func string(_ key: StaticString, _ value: StaticString) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func int(_ key: StaticString, _ value: Int) {
        self.key(key)
        decimal(value)
    }

    /// A money amount with two decimals, from cents.
    public mutating func money(_ key: StaticString, cents: Int) {
        self.key(key)
        decimal(cents / 100)
        bytes.append(UInt8(ascii: "."))
        let fraction = cents % 100
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    public mutating func bool(_ key: StaticString, _ value: Bool) {
        self.key(key)
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    public mutating func null(_ key: StaticString) {
        self.key(key)
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    /// Returns the offset of the timestamp's first byte (it is always 24 bytes, `…T…:…:….mmmZ`,
    /// for years 1000–9999, so it can be overwritten in place).
    @discardableResult
    public mutating func timestamp(_ key: StaticString, _ value: Timestamp) -> Int {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        let offset = bytes.count
        bytes.append(contentsOf: value.rfc3339Bytes)
        bytes.append(UInt8(ascii: "\""))
        return offset
    }

    /// A string member holding `prefix` then a random version-4 UUID (lower- or upper-case hex).
    /// Returns the byte offset of the UUID's first hex digit: its first 8 bytes are hex and may be
    /// overwritten later to make the value unique (see `HTTPBenchmark`).
    @discardableResult
    public mutating func uuid(_ key: StaticString, prefix: StaticString = "", upper: Bool = false, using rng: inout SplitMix64) -> Int {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
        let offset = bytes.count
        appendUUID(high: rng.next(), low: rng.next(), upper: upper)
        bytes.append(UInt8(ascii: "\""))
        return offset
    }

    // MARK: scalars

    public mutating func quoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 15)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func decimal(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            decimal(-value)
            return
        }
        if value >= 10 { decimal(value / 10) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    public mutating func appendUUID(high: UInt64, low: UInt64, upper: Bool) {
        // Version 4, variant 10xx.
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let hexCase: UInt8 = upper ? 0xDF : 0xFF
        func hex(_ word: UInt64, from: Int, count: Int) {
            for index in 0..<count {
                let shift = 60 - 4 * (from + index)
                let digit = Self.hexDigits[Int((word >> UInt64(shift)) & 15)]
                bytes.append(digit >= UInt8(ascii: "a") ? digit & hexCase : digit)
            }
        }
        hex(high, from: 0, count: 8)
        bytes.append(UInt8(ascii: "-"))
        hex(high, from: 8, count: 4)
        bytes.append(UInt8(ascii: "-"))
        hex(high, from: 12, count: 4)
        bytes.append(UInt8(ascii: "-"))
        hex(low, from: 0, count: 4)
        bytes.append(UInt8(ascii: "-"))
        hex(low, from: 4, count: 12)
    }

    /// Lower-case hex of `count` random nibbles (Mongo-style object ids, order ids …).
    public static func randomHex(_ count: Int, using rng: inout SplitMix64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var word = rng.next()
        for index in 0..<count {
            if index > 0 && index % 16 == 0 { word = rng.next() }
            out.append(hexDigits[Int(word & 15)])
            word >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func uuidString(using rng: inout SplitMix64, upper: Bool = false) -> String {
        var writer = ByteJSON(capacity: 36)
        writer.appendUUID(high: rng.next(), low: rng.next(), upper: upper)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
