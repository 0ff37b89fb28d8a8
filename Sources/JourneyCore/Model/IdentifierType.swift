/// The type of a customer identifier (`user_id`, `email`, …, or an operator-defined custom type).
///
/// A value type; freely `Sendable`. Built-in types have static members; custom types are
/// created from their configured name (`IdentifierType(rawValue: "loyalty_id")`).
public struct IdentifierType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public static let userID = IdentifierType(rawValue: "user_id")
    public static let anonymousID = IdentifierType(rawValue: "anonymous_id")
    public static let email = IdentifierType(rawValue: "email")
    public static let phone = IdentifierType(rawValue: "phone")
    public static let deviceID = IdentifierType(rawValue: "device_id")

    /// The identifier types journeyd reads without configuration, in default priority order
    /// (custom types go between `phone` and `device_id`).
    public static let builtIn: [IdentifierType] = [.userID, .email, .phone, .deviceID, .anonymousID]

    /// Whether `name` is usable as a custom type name: lower-case letters, digits and `_`, starting with a letter.
    public static func isValidCustomName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    public var description: String { rawValue }

    /// `String`'s `==` on the names, after a length check: most types differ in length, and a
    /// string comparison that is not settled by identical bits goes through a slow general path.
    /// (Equal names still hash alike, as `Hashable` requires.)
    public static func == (lhs: IdentifierType, rhs: IdentifierType) -> Bool {
        lhs.rawValue.utf8.count == rhs.rawValue.utf8.count && lhs.rawValue == rhs.rawValue
    }

    public static func < (lhs: IdentifierType, rhs: IdentifierType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One normalised identifier value of one type, e.g. `email: ada@example.com`.
public struct Identifier: Hashable, Sendable {
    public var type: IdentifierType
    public var value: String

    public init(type: IdentifierType, value: String) {
        self.type = type
        self.value = value
    }
}
