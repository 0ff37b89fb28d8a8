/// Why `JSONDocument.init(bytes:maxDepth:)` refused its input.
///
/// `offset` is the byte offset (0-based) at which the problem was detected:
/// the offending byte for `unexpectedByte`, `invalidUTF8` (the sequence's lead
/// byte), `controlCharacterInString` and `trailingContent`; the byte where a
/// digit was expected (or the stray digit after a leading zero) for
/// `invalidNumber`; the backslash starting the escape for `invalidEscape`,
/// `invalidUnicodeEscape` and `loneSurrogate`; the opening bracket that exceeds
/// the limit for `tooDeep`; and the input length for `unexpectedEnd`,
/// `unterminatedString` and `emptyInput`.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// Input ended where a value, separator or closing bracket was expected.
        case unexpectedEnd
        /// A byte that cannot start/continue the grammar at this position.
        case unexpectedByte(UInt8)
        /// Ill-formed UTF-8 inside a string (overlong, surrogate code point, > U+10FFFF, truncated, stray continuation byte).
        case invalidUTF8
        /// Backslash followed by something other than `" \ / b f n r t u`.
        case invalidEscape
        /// Number not matching the RFC 8259 grammar (leading zeros, `1.`, `.5`, `1e`, `-`, ...).
        case invalidNumber
        /// Raw byte < 0x20 inside a string.
        case controlCharacterInString
        /// More than `limit` nested arrays/objects.
        case tooDeep(limit: Int)
        /// Non-whitespace after the top-level value.
        case trailingContent
        /// Input empty or whitespace only.
        case emptyInput
        /// `\u` not followed by 4 hex digits.
        case invalidUnicodeEscape
        /// `\uD800`-`\uDBFF` not followed by a `\uDC00`-`\uDFFF` escape, or a lone `\uDC00`-`\uDFFF`.
        case loneSurrogate
        /// Input ended inside a string.
        case unterminatedString
        /// Input larger than the tape can address (≥ 4 GiB) or a container with ≥ 2^27 members.
        case documentTooLarge
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        "invalid JSON at byte \(offset): \(reasonText)"
    }

    /// Human-readable text for `reason` alone.
    public var reasonText: String {
        switch reason {
        case .unexpectedEnd: return "unexpected end of input"
        case .unexpectedByte(let b): return "unexpected \(Self.describeByte(b))"
        case .invalidUTF8: return "invalid UTF-8 in string"
        case .invalidEscape: return "invalid escape sequence in string"
        case .invalidNumber: return "invalid number"
        case .controlCharacterInString: return "unescaped control character in string"
        case .tooDeep(let limit): return "nesting deeper than \(limit) levels"
        case .trailingContent: return "unexpected content after the JSON value"
        case .emptyInput: return "empty input"
        case .invalidUnicodeEscape: return "invalid \\u escape (expected 4 hex digits)"
        case .loneSurrogate: return "unpaired UTF-16 surrogate in \\u escape"
        case .unterminatedString: return "unterminated string"
        case .documentTooLarge: return "document too large"
        }
    }

    static func describeByte(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F {
            return "character '\(Character(Unicode.Scalar(b)))'"
        }
        let hex = String(b, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }
}
