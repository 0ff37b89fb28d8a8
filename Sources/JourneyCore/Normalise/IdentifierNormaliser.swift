/// Turns raw identifier values into their normalised form, and refuses junk values.
///
/// Immutable after construction and `Sendable`: every ingest connection shares one.
/// Rules (DESIGN.md, Precise rules): values are trimmed; emails are lower-cased and must contain
/// `@`; phones keep a leading `+`, otherwise get `defaultCountryCode` prepended when one is set,
/// and keep only digits after that; blocklisted values (built-in list plus the configured one,
/// compared trimmed and case-insensitively) and all-zero ids never become identifiers.
public struct IdentifierNormaliser: Sendable {
    /// Values that never identify anyone, whatever their type.
    public static let builtInBlocklist: [String] = [
        "", "null", "undefined", "nil", "none", "nan", "anonymous", "unknown", "n/a", "na", "-",
        "0", "-1", "true", "false", "[object object]", "test", "guest", "user", "default",
    ]

    /// Phone numbers shorter than this many digits are not identifiers.
    public static let minimumPhoneDigits = 6

    private let blocklist: Set<String>
    /// Values longer than every blocklist entry cannot be on it (skips folding most real ids).
    private let longestBlocked: Int
    /// Bit n set when a blocklist entry is n bytes long (bit 63: 63 or more). An ASCII value
    /// folds to a value of its own length, so one whose length has no bit cannot be on the list.
    private let blockedLengths: UInt64
    private let defaultCountryCode: String?

    /// - Parameters:
    ///   - extraBlocklist: operator-configured junk values, added to the built-in list.
    ///   - defaultCountryCode: digits prepended to phone numbers written without `+`.
    public init(extraBlocklist: [String] = [], defaultCountryCode: String? = nil) {
        self.blocklist = Set((Self.builtInBlocklist + extraBlocklist).map { Self.foldedForBlocklist($0) })
        self.longestBlocked = blocklist.map(\.utf8.count).max() ?? 0
        self.blockedLengths = blocklist.reduce(0) { $0 | Self.lengthBit($1.utf8.count) }
        self.defaultCountryCode = defaultCountryCode.map { String($0.unicodeScalars.filter { $0.properties.numericType != nil && $0.isASCII }) }
    }

    /// The normalised identifier, or nil when the value is junk or unusable for its type.
    public func normalise(_ raw: String, as type: IdentifierType) -> Identifier? {
        let trimmed = Self.trimmed(raw)
        guard !isJunk(trimmed) else { return nil }
        let value: String
        switch type {
        case .email:
            guard trimmed.contains("@") else { return nil }
            value = Self.hasASCIIUppercaseOrNonASCII(trimmed) ? trimmed.lowercased() : trimmed
        case .phone:
            guard let phone = normalisePhone(trimmed) else { return nil }
            value = phone
        default:
            value = trimmed
        }
        return Identifier(type: type, value: value)
    }

    /// `normalise(_:as:)` for UTF-8 bytes, adding the identifier to `keys` unless it is junk or
    /// there already. A value that needs no change — not an email or a phone, a visible ASCII
    /// character at both ends, of a length no blocklist entry has (or, if not all ASCII, longer
    /// than every entry) and not all zeros (most ids) — is added as its bytes, without making a
    /// `String`.
    public func normalise(_ raw: UnsafeRawBufferPointer, as type: IdentifierType, into keys: inout EventKeys.Builder) {
        if let first = raw.first, let last = raw.last, Self.isVisibleASCII(first), Self.isVisibleASCII(last),
            cannotBeBlocked(raw), !Self.isZerosAndSeparators(raw), type != .email, type != .phone
        {
            keys.append(type, value: raw)
        } else if let identifier = normalise(String(decoding: raw, as: UTF8.self), as: type) {
            withUTF8Bytes(of: identifier.value) { keys.append(type, value: $0) }
        }
    }

    /// Whether `raw`, its ends visible ASCII (nothing to trim), is surely not on the blocklist.
    private func cannotBeBlocked(_ raw: UnsafeRawBufferPointer) -> Bool {
        if raw.count > longestBlocked { return true }
        return blockedLengths & Self.lengthBit(raw.count) == 0 && isASCII(raw)
    }

    private static func lengthBit(_ length: Int) -> UInt64 {
        1 << UInt64(min(length, 63))
    }

    /// Whether a trimmed value is on the blocklist or consists only of zeros and separators.
    public func isJunk(_ trimmed: String) -> Bool {
        if trimmed.utf8.count <= longestBlocked, blocklist.contains(Self.foldedForBlocklist(trimmed)) { return true }
        return Self.isZerosAndSeparators(trimmed.utf8)
    }

    /// Whether `bytes` hold a zero and otherwise only separators (`-`, `:`, `.`, space).
    private static func isZerosAndSeparators(_ bytes: some Sequence<UInt8>) -> Bool {
        var sawZero = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0"): sawZero = true
            case UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: " "): continue
            default: return false
            }
        }
        return sawZero
    }

    private func normalisePhone(_ trimmed: String) -> String? {
        let digits = String(trimmed.unicodeScalars.filter { $0.isASCII && $0.properties.numericType != nil })
        // All-zero numbers (`+00 000 000`, `(000) 000-0000`) are placeholders, like all-zero ids.
        guard digits.contains(where: { $0 != "0" }) else { return nil }
        let result: String
        if trimmed.hasPrefix("+") {
            result = "+" + digits
        } else if let code = defaultCountryCode, !code.isEmpty {
            let national = digits.drop(while: { $0 == "0" })
            result = "+" + code + national
        } else {
            result = digits
        }
        let digitCount = result.utf8.count - (result.hasPrefix("+") ? 1 : 0)
        return digitCount >= Self.minimumPhoneDigits ? result : nil
    }

    static func hasASCIIUppercaseOrNonASCII(_ value: String) -> Bool {
        value.utf8.contains { $0 >= 0x80 || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// Whitespace trimmed from both ends. Fast path: a value starting and ending with a visible
    /// ASCII character (the usual case) is returned as it is, without looking at Unicode properties.
    static func trimmed(_ value: String) -> String {
        let utf8 = value.utf8
        if let first = utf8.first, let last = utf8.last, isVisibleASCII(first), isVisibleASCII(last) {
            return value
        }
        let scalars = value.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// A printable ASCII character other than space: never whitespace to trim.
    static func isVisibleASCII(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7f
    }

    private static func foldedForBlocklist(_ value: String) -> String {
        trimmed(value).lowercased()
    }
}
