import Testing
@testable import JourneyCore

@Suite("EventNormaliser")
struct EventNormaliserTests {
    let harness = NormaliserHarness()

    private func ids(_ event: NormalisedEvent) -> [String] {
        event.identifiers.map { "\($0.type.rawValue)=\($0.value)" }
    }

    private func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: the six call types

    @Test func trackCall() throws {
        let event = try harness.normalise("""
            {"type":"track","event":"Order Completed","userId":"u-1","messageId":"m-1",
             "timestamp":"2026-03-01T11:00:00.000Z","properties":{"total":42.5,"currency":"EUR"}}
            """)
        #expect(event.type == .track)
        #expect(event.name == "Order Completed")
        #expect(event.messageID == "m-1")
        #expect(event.source == "website" && event.channel == "web")
        #expect(ids(event) == ["user_id=u-1"])
        #expect(event.timestamp == TestEvents.time("2026-03-01T11:00:00Z"))
        #expect(event.receivedAt == harness.receivedAt)
        #expect(event.phase == .buy)
        #expect(text(event.properties) == #"{"total":42.5,"currency":"EUR"}"#)
        #expect(event.aliasPreviousID == nil)
    }

    @Test func identifyCall() throws {
        let event = try harness.normalise("""
            {"type":"identify","userId":"u-1","anonymousId":"a-1","messageId":"m-2",
             "traits":{"email":" Ada@Example.com ","phone":"+44 20 7946 0958","name":"Ada"}}
            """)
        #expect(event.type == .identify)
        #expect(event.name == nil)
        #expect(Set(ids(event)) == ["user_id=u-1", "anonymous_id=a-1", "email=ada@example.com", "phone=+442079460958"])
        #expect(event.phase == nil)
        // identify's payload is its traits, which are also the customer's traits.
        #expect(text(event.properties) == #"{"email":" Ada@Example.com ","phone":"+44 20 7946 0958","name":"Ada"}"#)
        #expect(event.traits.map(\.key) == ["email", "phone", "name"])
        #expect(event.traits.map { text($0.json) } == [#"" Ada@Example.com ""#, #""+44 20 7946 0958""#, #""Ada""#])
    }

    @Test func pageAndScreenCallsUseName() throws {
        let page = try harness.normalise(#"{"type":"page","name":"Pricing","anonymousId":"a-1","properties":{"path":"/pricing"}}"#)
        #expect(page.type == .page && page.name == "Pricing" && page.phase == .explore)
        #expect(text(page.properties) == #"{"path":"/pricing"}"#)
        let screen = try harness.normalise(#"{"type":"screen","anonymousId":"a-1"}"#)
        #expect(screen.type == .screen && screen.name == nil && screen.phase == .explore)
        #expect(screen.properties.isEmpty)
        // A page call's "event" field is not its name.
        let unnamed = try harness.normalise(#"{"type":"page","event":"Order Completed","anonymousId":"a-1"}"#)
        #expect(unnamed.name == nil && unnamed.phase == .explore)
    }

    @Test func groupCallNeedsGroupId() throws {
        let event = try harness.normalise(#"{"type":"group","groupId":"acme","userId":"u-1","traits":{"plan":"pro"}}"#)
        #expect(event.type == .group && event.name == nil && event.phase == nil)
        #expect(text(event.properties) == #"{"plan":"pro"}"#)
        // group traits describe the group, not the customer.
        #expect(event.traits.isEmpty)
        #expect(try harness.normalise(#"{"type":"group","groupId":77,"userId":"u-1"}"#).type == .group)
        #expect(harness.rejection(#"{"type":"group","userId":"u-1"}"#)?.hasPrefix("groupId:") == true)
        #expect(harness.rejection(#"{"type":"group","groupId":null,"userId":"u-1"}"#)?.hasPrefix("groupId:") == true)
        #expect(harness.rejection(#"{"type":"group","groupId":["acme"],"userId":"u-1"}"#)?.hasPrefix("groupId:") == true)
    }

    @Test func aliasCallNeedsPreviousIdAndUserId() throws {
        let event = try harness.normalise(#"{"type":"alias","previousId":" anon-7 ","userId":"u-1"}"#)
        #expect(event.type == .alias && event.name == nil && event.phase == nil)
        #expect(event.aliasPreviousID == "anon-7")
        #expect(ids(event) == ["user_id=u-1"])
        #expect(try harness.normalise(#"{"type":"alias","previousId":123,"userId":"u-1"}"#).aliasPreviousID == "123")

        #expect(harness.rejection(#"{"type":"alias","userId":"u-1"}"#)?.hasPrefix("previousId:") == true)
        #expect(harness.rejection(#"{"type":"alias","previousId":null,"userId":"u-1"}"#)?.hasPrefix("previousId:") == true)
        #expect(harness.rejection(#"{"type":"alias","previousId":"anon-7"}"#)?.hasPrefix("userId:") == true)
        #expect(harness.rejection(#"{"type":"alias","previousId":"anon-7","anonymousId":"a"}"#)?.hasPrefix("userId:") == true)
        #expect(harness.rejection(#"{"type":"alias","previousId":"anon-7","userId":"null"}"#)?.hasPrefix("userId:") == true)
        // A junk previousId links nothing, but the alias is still a valid call for its userId.
        let junk = try harness.normalise(#"{"type":"alias","previousId":"undefined","userId":"u-1"}"#)
        #expect(junk.aliasPreviousID == nil && ids(junk) == ["user_id=u-1"])
    }

    @Test func trackNeedsANonEmptyEventName() {
        #expect(harness.rejection(#"{"type":"track","userId":"u-1"}"#)?.hasPrefix("event:") == true)
        #expect(harness.rejection(#"{"type":"track","event":"","userId":"u-1"}"#)?.hasPrefix("event:") == true)
        #expect(harness.rejection(#"{"type":"track","event":null,"userId":"u-1"}"#)?.hasPrefix("event:") == true)
        #expect(harness.rejection(#"{"type":"track","event":7,"userId":"u-1"}"#)?.hasPrefix("event:") == true)
    }

    @Test func typeIsRequiredAndMustBeKnown() {
        #expect(harness.rejection(#"{"userId":"u-1","event":"X"}"#)?.hasPrefix("type:") == true)
        #expect(harness.rejection(#"{"type":"click","userId":"u-1"}"#)?.hasPrefix("type:") == true)
        #expect(harness.rejection(#"{"type":"Track","event":"X","userId":"u-1"}"#)?.hasPrefix("type:") == true)
        #expect(harness.rejection(#"{"type":1,"userId":"u-1"}"#)?.hasPrefix("type:") == true)
    }

    @Test func endpointImpliesTheType() throws {
        var single = harness
        single.impliedType = .track
        // On /v1/track the body's own "type" is not consulted.
        let event = try single.normalise(#"{"type":"identify","event":"Signed In","userId":"u-1"}"#)
        #expect(event.type == .track && event.name == "Signed In" && event.phase == .use)
        #expect(try single.normalise(#"{"event":"Signed In","userId":"u-1"}"#).type == .track)
    }

    @Test func eventMustBeAnObject() {
        #expect(harness.rejection("[1,2]") == "event must be a JSON object")
        #expect(harness.rejection(#""text""#) == "event must be a JSON object")
    }

    // MARK: field types

    @Test(arguments: [
        (#"{"type":"track","event":"X","userId":{"id":1}}"#, "userId:"),
        (#"{"type":"track","event":"X","userId":true}"#, "userId:"),
        (#"{"type":"track","event":"X","userId":1.5}"#, "userId:"),
        (#"{"type":"track","event":"X","userId":"u","anonymousId":["a"]}"#, "anonymousId:"),
        (#"{"type":"track","event":"X","userId":"u","messageId":5}"#, "messageId:"),
        (#"{"type":"track","event":"X","userId":"u","timestamp":1767225600}"#, "timestamp:"),
        (#"{"type":"track","event":"X","userId":"u","timestamp":"yesterday"}"#, "timestamp:"),
        (#"{"type":"track","event":"X","userId":"u","originalTimestamp":"2026-02-30T00:00:00Z"}"#, "originalTimestamp:"),
        (#"{"type":"track","event":"X","userId":"u","sentAt":"2026-03-01"}"#, "sentAt:"),
        (#"{"type":"track","event":"X","userId":"u","properties":[1]}"#, "properties:"),
        (#"{"type":"track","event":"X","userId":"u","properties":"a=b"}"#, "properties:"),
        (#"{"type":"identify","userId":"u","traits":"vip"}"#, "traits:"),
        (#"{"type":"page","name":5,"userId":"u"}"#, "name:"),
    ] as [(String, String)])
    func wrongTypesAreRejectedNamingTheField(json: String, field: String) {
        let message = harness.rejection(json)
        #expect(message?.hasPrefix(field) == true, "\(message ?? "accepted")")
    }

    @Test func nullMeansAbsent() throws {
        let event = try harness.normalise("""
            {"type":"track","event":"X","userId":null,"anonymousId":"a-1","messageId":null,"timestamp":null,
             "originalTimestamp":null,"sentAt":null,"properties":null,"context":{"device":{"id":null},"traits":null}}
            """)
        #expect(ids(event) == ["anonymous_id=a-1"])
        #expect(event.messageID.hasPrefix("auto-"))
        #expect(event.timestamp == harness.receivedAt)
        #expect(event.properties.isEmpty)
        #expect(event.traits.isEmpty)
    }

    @Test func numericIdsKeepTheirIntegerText() throws {
        let event = try harness.normalise(#"{"type":"track","event":"X","userId":12345,"anonymousId":-42}"#)
        #expect(ids(event) == ["user_id=12345", "anonymous_id=-42"])
        // -1 and 0 are junk values whether sent as numbers or strings.
        #expect(harness.rejection(#"{"type":"track","event":"X","userId":-1,"anonymousId":0}"#)?.hasPrefix("no usable identifier") == true)
    }

    @Test func noUsableIdentifierIsRejected() {
        for json in [
            #"{"type":"track","event":"X"}"#,
            #"{"type":"track","event":"X","userId":"  ","anonymousId":"null"}"#,
            #"{"type":"track","event":"X","userId":"undefined","anonymousId":"00000000-0000-0000-0000-000000000000"}"#,
        ] {
            #expect(harness.rejection(json)?.hasPrefix("no usable identifier") == true, "\(json)")
        }
        // Any one usable identifier is enough, e.g. only a device id.
        #expect(harness.rejection(#"{"type":"track","event":"X","context":{"device":{"id":"d-1"}}}"#) == nil)
    }

    @Test func identifiersAreNormalisedAndDeduplicated() throws {
        let event = try harness.normalise("""
            {"type":"identify","userId":" u-1 ","traits":{"email":"ADA@example.com"},
             "context":{"traits":{"email":"ada@EXAMPLE.com "},"device":{"id":"dev-9"}}}
            """)
        #expect(ids(event) == ["user_id=u-1", "device_id=dev-9", "email=ada@example.com"])
    }

    // MARK: time

    @Test func clockSkewIsCorrectedWithSentAt() throws {
        // The client's clock is 5 minutes fast: it stamped the event 5 s before sending it.
        let event = try harness.normalise("""
            {"type":"track","event":"X","userId":"u","timestamp":"2026-03-01T12:04:55.000Z","sentAt":"2026-03-01T12:05:00.000Z"}
            """)
        // receivedAt − (sentAt − timestamp) = 12:00:00 − 5 s.
        #expect(event.timestamp == TestEvents.time("2026-03-01T11:59:55.000Z"))
        #expect(event.receivedAt == TestEvents.time("2026-03-01T12:00:00.000Z"))

        // A slow client clock is corrected forwards, and offsets are honoured.
        let slow = try harness.normalise("""
            {"type":"track","event":"X","userId":"u","timestamp":"2026-03-01T10:30:00.250+01:00","sentAt":"2026-03-01T09:30:01.000Z"}
            """)
        #expect(slow.timestamp == TestEvents.time("2026-03-01T11:59:59.250Z"))
    }

    /// Top-level fields are located in one pass over the members (`FieldDirectory`); names
    /// written with escapes are still found (by name), and a repeated member keeps its last value.
    @Test func fieldsAreFoundWhateverTheirOrderEscapesOrRepetition() throws {
        let plain = try harness.normalise(#"{"userId":"u-1","event":"Order Completed","messageId":"m-1","type":"track"}"#)
        #expect(plain.type == .track && plain.name == "Order Completed" && plain.messageID == "m-1")
        #expect(plain.identifiers == [Identifier(type: .userID, value: "u-1")])
        let escaped = try harness.normalise(#"{"type":"track","event":"Signed Up","userId":"u-2","messageId":"m-2"}"#)
        #expect(escaped.name == "Signed Up" && escaped.identifiers == [Identifier(type: .userID, value: "u-2")])
        let repeated = try harness.normalise(#"{"type":"track","event":"First","userId":"u-3","event":"Second","messageId":"m-3","userId":null,"anonymousId":"a-3"}"#)
        #expect(repeated.name == "Second")
        #expect(repeated.identifiers == [Identifier(type: .anonymousID, value: "a-3")])
        for field in EventField.allCases {
            #expect(Array(field.key.utf8).withUnsafeBufferPointer { EventField.field(named: $0) } == field)
        }
        #expect(Array("originalTimestamps".utf8).withUnsafeBufferPointer { EventField.field(named: $0) } == nil)
        // The directory has a slot for every field.
        let everyField = try JSONDocument(string: "{" + EventField.allCases.map { "\"\($0.key)\":\($0.rawValue)" }.joined(separator: ",") + "}")
        let directory = try #require(FieldDirectory<EventField>(everyField.root))
        #expect(EventField.allCases.allSatisfy { directory.position(of: $0) != nil })
        for field in ContextField.allCases {
            #expect(Array(field.key.utf8).withUnsafeBufferPointer { ContextField.field(named: $0) } == field)
        }
        let everyContextField = try JSONDocument(string: "{" + ContextField.allCases.map { "\"\($0.key)\":\($0.rawValue)" }.joined(separator: ",") + "}")
        let contextDirectory = try #require(FieldDirectory<ContextField>(everyContextField.root))
        #expect(ContextField.allCases.allSatisfy { contextDirectory.position(of: $0) != nil })
    }

    /// `context` members are found in one pass too, whatever their order, escapes or repetition;
    /// a member that is null, or not an object where a key is read below it, counts as absent.
    @Test func contextMembersAreFoundWhateverTheirOrderEscapesOrRepetition() throws {
        let plain = try harness.normalise(
            #"{"type":"track","event":"X","messageId":"m","context":{"traits":{"email":"a@example.com"},"ip":"1.2.3.4","device":{"id":"d-1"}}}"#)
        #expect(Set(plain.identifiers) == [Identifier(type: .deviceID, value: "d-1"), Identifier(type: .email, value: "a@example.com")])
        let escaped = try harness.normalise(
            #"{"type":"track","event":"X","messageId":"m","context":{"\u0064evice":{"id":"d-2"},"traits":{"phone":"+1 555 010 9999"}}}"#)
        #expect(Set(escaped.identifiers) == [Identifier(type: .deviceID, value: "d-2"), Identifier(type: .phone, value: "+15550109999")])
        let repeated = try harness.normalise(
            #"{"type":"track","event":"X","messageId":"m","context":{"device":{"id":"first"},"device":{"id":"second"},"traits":"not an object"}}"#)
        #expect(repeated.identifiers == [Identifier(type: .deviceID, value: "second")])
        #expect(repeated.traits.isEmpty)
    }

    @Test func withoutSentAtTheClientTimeIsUsedAsIs() throws {
        let event = try harness.normalise(#"{"type":"track","event":"X","userId":"u","timestamp":"2025-12-24T18:00:00.5Z"}"#)
        #expect(event.timestamp == TestEvents.time("2025-12-24T18:00:00.500Z"))
        // Read in place when it has nothing to unescape; decoded first when it has.
        let escaped = try harness.normalise(#"{"type":"track","event":"X","userId":"u","timestamp":"2025-12-24T18:00:00\u002e5\u005A"}"#)
        #expect(escaped.timestamp == event.timestamp)
    }

    @Test func withoutClientTimeTheReceivedTimeIsUsed() throws {
        let event = try harness.normalise(#"{"type":"track","event":"X","userId":"u","sentAt":"2026-03-01T12:05:00Z"}"#)
        #expect(event.timestamp == harness.receivedAt)
    }

    @Test func originalTimestampWinsOverTimestamp() throws {
        let event = try harness.normalise("""
            {"type":"track","event":"X","userId":"u","originalTimestamp":"2026-03-01T11:00:00Z",
             "timestamp":"2026-03-01T11:30:00Z","sentAt":"2026-03-01T11:00:10Z"}
            """)
        #expect(event.timestamp == TestEvents.time("2026-03-01T11:59:50Z"))
    }

    @Test func eventSentAtWinsOverBatchSentAt() throws {
        var batch = harness
        batch.batchSentAt = TestEvents.time("2026-03-01T12:00:30Z")
        let stamped = #""timestamp":"2026-03-01T12:00:20Z""#
        // The batch's sentAt applies to events without their own: 20 s before sending.
        let inherits = try batch.normalise(#"{"type":"track","event":"X","userId":"u",\#(stamped)}"#)
        #expect(inherits.timestamp == TestEvents.time("2026-03-01T11:59:50Z"))
        // The event's own sentAt wins: 2 s before sending.
        let own = try batch.normalise(#"{"type":"track","event":"X","userId":"u",\#(stamped),"sentAt":"2026-03-01T12:00:22Z"}"#)
        #expect(own.timestamp == TestEvents.time("2026-03-01T11:59:58Z"))
        // An explicit null is absence, so the batch's applies.
        let null = try batch.normalise(#"{"type":"track","event":"X","userId":"u",\#(stamped),"sentAt":null}"#)
        #expect(null.timestamp == inherits.timestamp)
    }

    @Test func correctedTimeOutsideFourDigitYearsIsRejected() {
        // Skew correction with an absurd client clock would land before year 0000.
        let message = harness.rejection("""
            {"type":"track","event":"X","userId":"u","timestamp":"0000-01-01T00:00:00Z","sentAt":"9999-01-01T00:00:00Z"}
            """)
        #expect(message?.hasPrefix("timestamp:") == true, "\(message ?? "accepted")")
        // …or after year 9999.
        #expect(harness.rejection("""
            {"type":"track","event":"X","userId":"u","timestamp":"9999-12-31T00:00:00Z","sentAt":"0001-01-01T00:00:00Z"}
            """)?.hasPrefix("timestamp:") == true)
        // Old but representable times are fine.
        #expect(harness.rejection(#"{"type":"track","event":"X","userId":"u","timestamp":"0001-01-01T00:00:00Z"}"#) == nil)
    }

    // MARK: context and custom identifiers

    @Test func batchContextIsAFallbackForContextFields() throws {
        var batch = harness
        batch.batchContext = #"{"device":{"id":"batch-device"},"traits":{"email":"Batch@Example.com","plan":"gold"}}"#
        let inherits = try batch.normalise(#"{"type":"track","event":"X","anonymousId":"a-1"}"#)
        #expect(ids(inherits) == ["anonymous_id=a-1", "device_id=batch-device", "email=batch@example.com"])
        #expect(inherits.traits.map(\.key) == ["email", "plan"])

        let own = try batch.normalise("""
            {"type":"track","event":"X","anonymousId":"a-1","context":{"device":{"id":"own-device"},"traits":{"email":"own@example.com"}}}
            """)
        #expect(ids(own) == ["anonymous_id=a-1", "device_id=own-device", "email=own@example.com"])

        // A null in the event's own context is absence, so the batch's value is used.
        let null = try batch.normalise(#"{"type":"track","event":"X","anonymousId":"a-1","context":{"device":{"id":null}}}"#)
        #expect(ids(null).contains("device_id=batch-device"))
    }

    @Test func contextTraitsCountForEveryCallButTopLevelTraitsOnlyForIdentify() throws {
        let track = try harness.normalise("""
            {"type":"track","event":"X","userId":"u","traits":{"email":"top@example.com"},
             "context":{"traits":{"email":"ctx@example.com","phone":"+1 555 010 9999"}}}
            """)
        #expect(ids(track) == ["user_id=u", "email=ctx@example.com", "phone=+15550109999"])
        let page = try harness.normalise(#"{"type":"page","userId":"u","context":{"traits":{"phone":5550109999}}}"#)
        #expect(ids(page) == ["user_id=u", "phone=5550109999"])
        // Non-text trait values are ignored, not refused.
        let odd = try harness.normalise(#"{"type":"identify","userId":"u","traits":{"email":{"work":"a@b.c"},"phone":true}}"#)
        #expect(ids(odd) == ["user_id=u"])
        // Invalid values for their type are dropped: an email without "@", a too-short phone.
        let bad = try harness.normalise(#"{"type":"identify","userId":"u","traits":{"email":"nope","phone":"123"}}"#)
        #expect(ids(bad) == ["user_id=u"])
    }

    @Test func customIdentifierPaths() throws {
        var custom = harness
        let loyalty = IdentifierType(rawValue: "loyalty_id")
        let crm = IdentifierType(rawValue: "crm_id")
        custom.settings.customIdentifiers = [
            CustomIdentifierPath(type: loyalty, paths: ["traits.loyaltyId", "properties.loyalty_id"]),
            CustomIdentifierPath(type: crm, paths: ["context.crm.id"]),
        ]
        let identify = try custom.normalise(#"{"type":"identify","userId":"u","traits":{"loyaltyId":" L-1 "}}"#)
        #expect(ids(identify) == ["user_id=u", "loyalty_id=L-1"])
        let track = try custom.normalise(#"{"type":"track","event":"X","userId":"u","properties":{"loyalty_id":778}}"#)
        #expect(ids(track) == ["user_id=u", "loyalty_id=778"])
        let both = try custom.normalise("""
            {"type":"identify","userId":"u","traits":{"loyaltyId":"L-1"},"properties":{"loyalty_id":"L-2"},"context":{"crm":{"id":"C-9"}}}
            """)
        #expect(ids(both) == ["user_id=u", "loyalty_id=L-1", "loyalty_id=L-2", "crm_id=C-9"])
        // context.* custom paths fall back to the batch context.
        custom.batchContext = #"{"crm":{"id":"C-batch"}}"#
        #expect(ids(try custom.normalise(#"{"type":"track","event":"X","userId":"u"}"#)) == ["user_id=u", "crm_id=C-batch"])
        // A custom identifier alone is a usable identifier; junk values are still refused.
        #expect(ids(try custom.normalise(#"{"type":"identify","traits":{"loyaltyId":"L-5"}}"#)) == ["loyalty_id=L-5", "crm_id=C-batch"])
        custom.batchContext = nil
        #expect(custom.rejection(#"{"type":"identify","traits":{"loyaltyId":"unknown"}}"#)?.hasPrefix("no usable identifier") == true)
    }

    @Test func contextExternalIds() throws {
        var custom = harness
        custom.settings.customIdentifiers = [CustomIdentifierPath(type: IdentifierType(rawValue: "loyalty_id"), paths: [])]
        let event = try custom.normalise("""
            {"type":"track","event":"X","anonymousId":"a-1","context":{"externalIds":[
              {"id":"L-9","type":"loyalty_id","collection":"users","encoding":"none"},
              {"id":" Ada@Example.com","type":"EMAIL","collection":"users"},
              {"id":"zz","type":"brazeExternalId","collection":"users"},
              {"id":"noType"},
              {"id":4242,"type":"device_id"},
              "not an object"
            ]}}
            """)
        #expect(ids(event) == ["anonymous_id=a-1", "loyalty_id=L-9", "email=ada@example.com", "device_id=4242"])
        // Without the custom type configured, loyalty_id entries are ignored.
        let plain = try harness.normalise(#"{"type":"track","event":"X","anonymousId":"a","context":{"externalIds":[{"id":"L-9","type":"loyalty_id"}]}}"#)
        #expect(ids(plain) == ["anonymous_id=a"])
    }

    // MARK: size, message ids, phases

    @Test func eventsOverMaxEventBytesAreRejected() throws {
        var small = harness
        let json = #"{"type":"track","event":"X","userId":"u","properties":{"pad":"\#(String(repeating: "x", count: 50))"}}"#
        let size = json.utf8.count
        small.settings.maxEventBytes = size
        #expect(small.rejection(json) == nil)
        small.settings.maxEventBytes = size - 1
        let message = small.rejection(json)
        #expect(message == "event is \(size) bytes, over the limit of \(size - 1) bytes")
        // The default limit is 32 KiB.
        #expect(EventNormaliser.Settings().maxEventBytes == 32 * 1024)
        let big = #"{"type":"track","event":"X","userId":"u","properties":{"pad":"\#(String(repeating: "x", count: 33_000))"}}"#
        #expect(harness.rejection(big)?.hasPrefix("event is ") == true)
    }

    @Test func derivedMessageIdIsStableForIdenticalBytes() throws {
        let json = #"{"type":"track","event":"X","userId":"u","properties":{"n":1}}"#
        let first = try harness.normalise(json)
        var later = harness
        later.receivedAt = harness.receivedAt + 60_000
        let second = try later.normalise(json)
        #expect(first.messageID.hasPrefix("auto-"))
        #expect(first.messageID.utf8.count == "auto-".utf8.count + 16)
        #expect(first.messageID == second.messageID)
        // Different bytes or a different source give a different id.
        #expect(try harness.normalise(#"{"type":"track","event":"X","userId":"u","properties":{"n":2}}"#).messageID != first.messageID)
        var other = harness
        other.source = TestEvents.app
        #expect(try other.normalise(json).messageID != first.messageID)
    }

    @Test func blankMessageIdIsTreatedAsAbsent() throws {
        // An empty messageId would otherwise make every later event from the source a "duplicate".
        let a = try harness.normalise(#"{"type":"track","event":"A","userId":"u","messageId":""}"#)
        let b = try harness.normalise(#"{"type":"track","event":"B","userId":"u","messageId":"  "}"#)
        #expect(a.messageID.hasPrefix("auto-") && b.messageID.hasPrefix("auto-"))
        #expect(a.messageID != b.messageID)
    }

    @Test func messageIdLengthIsBounded() {
        let ok = String(repeating: "m", count: 256)
        #expect(harness.rejection(#"{"type":"track","event":"X","userId":"u","messageId":"\#(ok)"}"#) == nil)
        #expect(harness.rejection(#"{"type":"track","event":"X","userId":"u","messageId":"\#(ok)m"}"#)?.hasPrefix("messageId") == true)
    }

    @Test func phaseIsAssignedFromTheRules() throws {
        func phase(_ json: String, source: SourceInfo = TestEvents.web) throws -> Phase? {
            var h = harness
            h.source = source
            return try h.normalise(json).phase
        }
        #expect(try phase(#"{"type":"track","event":"Order Completed","userId":"u"}"#) == .buy)
        #expect(try phase(#"{"type":"track","event":"Products Searched","userId":"u"}"#) == .explore)
        #expect(try phase(#"{"type":"track","event":"Something Custom","userId":"u"}"#) == nil)
        #expect(try phase(#"{"type":"track","event":"Something Custom","userId":"u"}"#, source: TestEvents.callCentre) == .ask)
        #expect(try phase(#"{"type":"page","userId":"u"}"#) == .explore)
        #expect(try phase(#"{"type":"identify","userId":"u"}"#) == nil)
        var custom = harness
        custom.settings.phaseRules = PhaseRules(operatorRules: [PhaseRule(phase: .engage, type: .identify)])
        #expect(try custom.normalise(#"{"type":"identify","userId":"u"}"#).phase == .engage)
    }

    /// The word-at-a-time line-break scan agrees with a byte-by-byte one wherever the break is,
    /// including the tail shorter than a word, and for bytes next to LF and CR in value.
    @Test func lineBreaksAreFoundAtEveryPosition() {
        for length in 0..<24 {
            let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            #expect(!plain.withUnsafeBufferPointer(EventNormaliser.containsLineBreak))
            #expect(![UInt8](repeating: 0x0B, count: length).withUnsafeBufferPointer(EventNormaliser.containsLineBreak))
            #expect(![UInt8](repeating: 0x0C, count: length).withUnsafeBufferPointer(EventNormaliser.containsLineBreak))
            for position in 0..<length {
                for lineBreak: UInt8 in [0x0A, 0x0D] {
                    var bytes = plain
                    bytes[position] = lineBreak
                    #expect(bytes.withUnsafeBufferPointer(EventNormaliser.containsLineBreak), "length \(length), at \(position)")
                }
            }
        }
    }

    @Test func propertiesAndTraitsAreStoredWithoutLineBreaks() throws {
        // Senders may pretty-print; stored JSON must not carry raw newlines into JSON-lines output.
        let event = try harness.normalise("""
            {
              "type": "identify",
              "userId": "u",
              "traits": {
                "name": "Ada  Lovelace",
                "address": { "city": "London", "lines": [ "12 St James's Sq", "x" ] },
                "tags": [ ]
              },
              "context": { "traits": { "plan" : "gold\\n" } }
            }
            """)
        let stored = text(event.properties)
        #expect(!stored.contains("\n") && !stored.contains("\r"))
        let properties = try JSONDocument(bytes: Array(event.properties)).root
        #expect(properties["name"]?.string == "Ada  Lovelace")
        #expect(properties["address"]?["lines"]?.elements.map { $0.string } == ["12 St James's Sq", "x"])
        #expect(properties["tags"]?.count == 0)
        #expect(event.traits.map(\.key) == ["plan", "name", "address", "tags"])
        #expect(event.traits.allSatisfy { !$0.json.contains(0x0A) && !$0.json.contains(0x0D) })
        #expect(text(event.traits[0].json) == #""gold\n""#)
        let track = try harness.normalise("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"properties\":{\r\n\t\"a\" : 1 ,\n\"b\":\"x y\"}}")
        #expect(text(track.properties) == "{\t\"a\" : 1 ,\"b\":\"x y\"}")
    }

    /// Properties that need no compacting are the slice of the parsed bytes they were found in,
    /// not a copy; compacted ones are bytes of their own.
    @Test func propertiesAreTheParsedBytesUnlessCompacted() throws {
        func normalised(_ json: String) throws -> (event: NormalisedEvent, parsed: Range<UInt>) {
            let document = try JSONDocument(string: json)
            let event = try EventNormaliser(settings: harness.settings).normalise(
                document.root, envelope: EventNormaliser.Envelope(source: harness.source, receivedAt: harness.receivedAt))
            let parsed = document.root.rawBytes.withUnsafeBufferPointer {
                UInt(bitPattern: $0.baseAddress)..<(UInt(bitPattern: $0.baseAddress) + UInt($0.count))
            }
            return (event, parsed)
        }
        func start(_ bytes: ArraySlice<UInt8>) -> UInt {
            bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        }
        let plain = try normalised(#"{"type":"track","event":"X","userId":"u","properties":{"total":1}}"#)
        #expect(text(plain.event.properties) == #"{"total":1}"#)
        #expect(plain.parsed.contains(start(plain.event.properties)))
        let pretty = try normalised("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u\",\"properties\":{\n\"total\":1\n}}")
        #expect(text(pretty.event.properties) == #"{"total":1}"#)
        #expect(!pretty.parsed.contains(start(pretty.event.properties)))
    }
}
