import Testing
@testable import JourneyCore

@Suite("IdentifierNormaliser")
struct IdentifierNormaliserTests {
    let plain = IdentifierNormaliser()

    private func value(_ raw: String, _ type: IdentifierType, _ normaliser: IdentifierNormaliser? = nil) -> String? {
        let result = (normaliser ?? plain).normalise(raw, as: type)
        if let result { #expect(result.type == type) }
        return result?.value
    }

    @Test func emailIsTrimmedAndLowerCased() {
        #expect(value("  Ada.Lovelace@Example.COM \n", .email) == "ada.lovelace@example.com")
        #expect(value("\tBOB@EXAMPLE.ORG", .email) == "bob@example.org")
        #expect(value("already@lower.case", .email) == "already@lower.case")
    }

    @Test func textWithoutAtSignIsNotAnEmail() {
        #expect(value("ada.example.com", .email) == nil)
        #expect(value("ada", .email) == nil)
        #expect(value("   ", .email) == nil)
    }

    @Test func otherTypesAreOnlyTrimmedKeepingCase() {
        #expect(value("  User-42 ", .userID) == "User-42")
        #expect(value("AbC-123", .anonymousID) == "AbC-123")
        #expect(value(" Device:XYZ ", .deviceID) == "Device:XYZ")
        #expect(value(" L-77 ", IdentifierType(rawValue: "loyalty_id")) == "L-77")
    }

    @Test func phoneWithPlusKeepsOnlyDigits() {
        #expect(value("+44 (20) 7946-0958", .phone) == "+442079460958")
        #expect(value(" +1.555.010.9999 ", .phone) == "+15550109999")
        // A configured country code does not apply to numbers that already have one.
        let uk = IdentifierNormaliser(defaultCountryCode: "44")
        #expect(value("+1 555 010 9999", .phone, uk) == "+15550109999")
    }

    @Test func phoneWithoutPlusGetsTheDefaultCountryCodeWithoutLeadingZeros() {
        let uk = IdentifierNormaliser(defaultCountryCode: "44")
        #expect(value("020 7946 0958", .phone, uk) == "+442079460958")
        #expect(value("(0)20-7946-0958", .phone, uk) == "+442079460958")
        #expect(value("2079460958", .phone, uk) == "+442079460958")
        // The configured code may itself be written with a plus or spaces; only its digits count.
        let written = IdentifierNormaliser(defaultCountryCode: "+ 49")
        #expect(value("0151 2345678", .phone, written) == "+491512345678")
    }

    @Test func phoneWithoutPlusOrCountryCodeKeepsItsDigits() {
        #expect(value("020 7946 0958", .phone) == "02079460958")
        #expect(value("555-010-9999", .phone) == "5550109999")
        // An empty configured code is the same as none.
        #expect(value("555-010-9999", .phone, IdentifierNormaliser(defaultCountryCode: "")) == "5550109999")
    }

    @Test func tooShortPhonesAreRefused() {
        #expect(IdentifierNormaliser.minimumPhoneDigits == 6)
        #expect(value("12345", .phone) == nil)
        #expect(value("123456", .phone) == "123456")
        #expect(value("+12345", .phone) == nil)
        #expect(value("+123456", .phone) == "+123456")
        #expect(value("call me", .phone) == nil)
        // Leading zeros stripped before the code is added: "+44" + "" has two digits only.
        #expect(value("000", .phone, IdentifierNormaliser(defaultCountryCode: "44")) == nil)
        // "+44" + "1234" = 6 digits: just enough.
        #expect(value("01234", .phone, IdentifierNormaliser(defaultCountryCode: "44")) == "+441234")
    }

    @Test(arguments: [
        "", " ", "null", "NULL", "undefined", "Undefined", "nil", "none", "NaN", "anonymous", "Anonymous ",
        "unknown", "n/a", "N/A", "na", "-", "0", "-1", " -1 ", "true", "FALSE", "[object Object]", "test",
        "guest", "user", "default", "\t null \n",
    ])
    func builtInBlocklistIsCaseInsensitiveAfterTrimming(raw: String) {
        for type in [IdentifierType.userID, .anonymousID, .deviceID, IdentifierType(rawValue: "loyalty_id")] {
            #expect(plain.normalise(raw, as: type) == nil, "\(raw) as \(type)")
        }
        #expect(plain.isJunk(IdentifierNormaliser.trimmed(raw)))
    }

    @Test func configuredBlocklistExtendsTheBuiltInOne() {
        let normaliser = IdentifierNormaliser(extraBlocklist: ["  Shared-Kiosk ", "noreply@shop.example"])
        #expect(value("shared-kiosk", .deviceID, normaliser) == nil)
        #expect(value(" SHARED-KIOSK\t", .deviceID, normaliser) == nil)
        #expect(value("NoReply@Shop.Example ", .email, normaliser) == nil)
        // The built-in values stay blocked.
        #expect(value("anonymous", .anonymousID, normaliser) == nil)
        // Without the configured list these are ordinary values.
        #expect(value("shared-kiosk", .deviceID) == "shared-kiosk")
        #expect(value("NoReply@Shop.Example", .email) == "noreply@shop.example")
        // Only whole values are blocked, not values containing a blocked word.
        #expect(value("shared-kiosk-2", .deviceID, normaliser) == "shared-kiosk-2")
        #expect(value("nullable", .userID) == "nullable")
        #expect(value("guest-7", .userID) == "guest-7")
    }

    @Test(arguments: [
        "00000000-0000-0000-0000-000000000000",
        "00000000000000000000000000000000",
        "000",
        "0.0",
        "00:00:00:00:00:00",
        " 0000 0000 ",
    ])
    func allZeroIdsAreJunk(raw: String) {
        #expect(plain.normalise(raw, as: .anonymousID) == nil)
        #expect(plain.normalise(raw, as: .deviceID) == nil)
        #expect(plain.normalise(raw, as: .userID) == nil)
    }

    @Test func idsWithSomeNonZeroDigitAreKept() {
        #expect(value("00000000-0000-0000-0000-000000000001", .deviceID) == "00000000-0000-0000-0000-000000000001")
        #expect(value("100", .userID) == "100")
        #expect(value("0x0", .userID) == "0x0")
        // Separators alone (no zero) are not "all zero"; "--" is not on the list either.
        #expect(value("--", .userID) == "--")
    }

    @Test func allZeroPhoneNumbersAreJunk() {
        // A placeholder such as +00 000 000 000 would otherwise link unrelated customers.
        #expect(value("+00 000 000 000", .phone) == nil)
        #expect(value("000-000-0000", .phone) == nil)
        #expect(value("(000) 000-0000", .phone) == nil)
        #expect(value("(000) 000-0000", .phone, IdentifierNormaliser(defaultCountryCode: "44")) == nil)
        #expect(value("+44 0000 000000", .phone) == "+440000000000")
    }

    @Test func trimmedHandlesUnicodeWhitespace() {
        #expect(IdentifierNormaliser.trimmed("\u{00A0}\u{2003}abc\u{3000}\n") == "abc")
        #expect(IdentifierNormaliser.trimmed(" \t\n ") == "")
        #expect(IdentifierNormaliser.trimmed("a b") == "a b")
    }
}
