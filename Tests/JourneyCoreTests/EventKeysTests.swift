import Testing

@testable import JourneyCore

/// `EventKeys` packs an event's message id and identifiers into one buffer; what goes in must
/// come back out, byte for byte, whatever the types and values.
@Suite struct EventKeysTests {
    @Test func messageIDAndIdentifiersComeBackAsGiven() {
        // Every built-in type, and custom ones of a built-in name's length.
        let loyalty = IdentifierType(rawValue: "loyalty_card_number_of_the_store")
        let identifiers = [
            Identifier(type: .anonymousID, value: "3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
            Identifier(type: .email, value: "zoë@example.com"),
            Identifier(type: loyalty, value: "L-7"),
            Identifier(type: .userID, value: ""),
            Identifier(type: .deviceID, value: String(repeating: "d", count: 70_000)),
            Identifier(type: .phone, value: "+353861234567"),
            Identifier(type: IdentifierType(rawValue: "badge"), value: "b-5"),
        ]
        let keys = EventKeys(messageID: "msg-ünïcode-0001", identifiers: identifiers)
        #expect(keys.messageID == "msg-ünïcode-0001")
        #expect(keys.identifiers == identifiers)
        keys.withIdentifiers { entries in
            #expect(entries.count == identifiers.count)
            #expect(entries.map(\.type) == identifiers.map(\.type))
            #expect(entries.map { Array($0.value) } == identifiers.map { Array($0.value.utf8) })
        }
        #expect(EventKeys(messageID: "", identifiers: []).identifiers.isEmpty)
        #expect(EventKeys(messageID: "", identifiers: []).messageID == "")
    }

    /// The builder keeps each (type, value) once, at its first place; the same value under
    /// another type is another identifier.
    @Test func theBuilderSkipsAnIdentifierItHasAlready() {
        var builder = EventKeys.Builder(messageID: "m")
        func append(_ type: IdentifierType, _ value: String) {
            withUTF8Bytes(of: value) { builder.append(type, value: $0) }
        }
        append(.userID, "u-1")
        append(.anonymousID, "u-1")
        append(.userID, "u-1")
        append(.userID, "u-10")
        #expect(builder.identifierCount == 3)
        #expect(builder.contains(.anonymousID) && !builder.contains(.email))
        let keys = builder.finish()
        #expect(keys.identifiers == [TestEvents.user("u-1"), TestEvents.anon("u-1"), TestEvents.user("u-10")])
    }

    /// Events built from values and events built from JSON carry equal keys.
    @Test func keysFromValuesEqualKeysFromTheNormaliser() throws {
        let json = #"{"type":"track","event":"X","messageId":"m-1","userId":"u-1","anonymousId":"a-1","context":{"device":{"id":"d-1"}}}"#
        let event = try EventNormaliser(settings: .init()).normalise(
            try JSONDocument(string: json).root,
            envelope: EventNormaliser.Envelope(source: SourceInfo(name: "web", channel: "web"), receivedAt: TestEvents.time("2025-03-01T10:00:00Z")))
        let expected = EventKeys(messageID: "m-1", identifiers: [TestEvents.user("u-1"), TestEvents.anon("a-1"), TestEvents.device("d-1")])
        #expect(event.keys == expected)
    }
}

extension EventKeysTests {
    /// Ids are read in place when they need nothing done to them, and as `String`s otherwise
    /// (escapes, surrounding spaces, numbers, emails, values as long as a blocklist entry); both
    /// ways give the same keys.
    @Test(arguments: [
        (#""messageId":"m-1","userId":"user-000123""#, "m-1", TestEvents.user("user-000123")),
        (#""messageId":"m\u002d1","userId":"user\u002d000123""#, "m-1", TestEvents.user("user-000123")),
        (#""messageId":"  m-1","userId":"  user-000123 ""#, "  m-1", TestEvents.user("user-000123")),
        (#""messageId":"m-1","userId":12345678901234567"#, "m-1", TestEvents.user("12345678901234567")),
        (#""messageId":"m-1","userId":"u1""#, "m-1", TestEvents.user("u1")),
        (#""messageId":"m-1","userId":"usr_5790442125""#, "m-1", TestEvents.user("usr_5790442125")),
        (#""messageId":"m-1","userId":"TEST""#, "m-1", nil),
        (#""messageId":"m-1","userId":"UNKNOWN","anonymousId":"0000-0000-0000-0000""#, "m-1", nil),
    ])
    func idsReadInPlaceOrAsStringsNormaliseAlike(fields: String, messageID: String, userID: Identifier?) throws {
        let json = #"{"type":"track","event":"X",\#(fields),"context":{"traits":{"email":" Ada@Example.COM "}}}"#
        let event = try EventNormaliser(settings: .init()).normalise(
            try JSONDocument(string: json).root,
            envelope: EventNormaliser.Envelope(source: SourceInfo(name: "web", channel: "web"), receivedAt: TestEvents.time("2025-03-01T10:00:00Z")))
        #expect(event.messageID == messageID)
        #expect(event.identifiers == (userID.map { [$0] } ?? []) + [TestEvents.email("ada@example.com")])
    }
}
