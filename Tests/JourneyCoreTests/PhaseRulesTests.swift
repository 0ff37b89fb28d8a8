import Testing
@testable import JourneyCore

@Suite("PhaseRules")
struct PhaseRulesTests {
    let defaults = PhaseRules()

    @Test(arguments: [
        ("Promotion Viewed", Phase.discover),
        ("Application Installed", .discover),
        ("Deep Link Opened", .discover),
        ("Products Searched", .explore),
        ("Product Viewed", .explore),
        ("Product Added", .explore),
        ("Checkout Started", .explore),
        ("Order Completed", .buy),
        ("Application Opened", .use),
        ("Order Delivered", .use),
        ("Signed In", .use),
        ("Order Refunded", .ask),
        ("Ticket Created", .ask),
        ("Live Chat Started", .ask),
        ("Email Opened", .engage),
        ("Product Reviewed", .engage),
        ("Signed Up", .engage),
        ("Newsletter Subscribed", .engage),
    ] as [(String, Phase)])
    func builtInTrackEvents(event: String, phase: Phase) {
        #expect(defaults.phase(type: .track, event: event, channel: "web") == phase)
        // Event-name rules come before the channel rule: an order taken by phone is still a purchase.
        #expect(defaults.phase(type: .track, event: event, channel: "call_center") == phase)
    }

    @Test func eventNamesCompareExactly() {
        #expect(defaults.phase(type: .track, event: "order completed", channel: "web") == nil)
        #expect(defaults.phase(type: .track, event: "Order Completed ", channel: "web") == nil)
        #expect(defaults.phase(type: .track, event: "Something Else", channel: "web") == nil)
        // Track names only match track calls.
        #expect(defaults.phase(type: .identify, event: "Order Completed", channel: "web") == nil)
    }

    @Test func builtInTypeAndChannelRules() {
        #expect(defaults.phase(type: .page, event: nil, channel: "web") == .explore)
        #expect(defaults.phase(type: .screen, event: "Home", channel: "mobile") == .explore)
        #expect(defaults.phase(type: .track, event: "Unlisted", channel: "call_center") == .ask)
        // The call-centre channel rule precedes the page rule.
        #expect(defaults.phase(type: .page, event: nil, channel: "call_center") == .ask)
        for type in [EventType.identify, .group, .alias] {
            #expect(defaults.phase(type: type, event: nil, channel: "web") == nil)
        }
    }

    @Test func builtInTableMapsEachNameOnce() {
        var seen: [String: Phase] = [:]
        for rule in PhaseRules.builtIn {
            guard let event = rule.event?.text else { continue }
            #expect(rule.type == .track && rule.event?.isGlob == false)
            #expect(seen.updateValue(rule.phase, forKey: event) == nil, "\(event) listed twice")
        }
        #expect(Set(seen.values) == Set(Phase.allCases))
    }

    @Test func operatorRulesWinOverBuiltIns() {
        let rules = PhaseRules(operatorRules: [
            PhaseRule(phase: .engage, event: "Order Completed", channel: "email"),
            PhaseRule(phase: .use, channel: "store"),
        ])
        #expect(rules.rules.count == PhaseRules.builtIn.count + 2)
        #expect(rules.phase(type: .track, event: "Order Completed", channel: "email") == .engage)
        #expect(rules.phase(type: .track, event: "Order Completed", channel: "web") == .buy)
        #expect(rules.phase(type: .page, event: nil, channel: "store") == .use)
        #expect(rules.phase(type: .identify, event: nil, channel: "store") == .use)
        #expect(rules.phase(type: .page, event: nil, channel: "web") == .explore)
    }

    @Test func firstMatchWins() {
        let rules = PhaseRules(operatorRules: [
            PhaseRule(phase: .ask, type: .track, event: "Call Back"),
            PhaseRule(phase: .buy, type: .track, event: "Call Back"),
            PhaseRule(phase: .discover, type: .track),
            PhaseRule(phase: .engage, type: .track, event: "Never Reached"),
        ])
        #expect(rules.phase(type: .track, event: "Call Back", channel: "web") == .ask)
        // The catch-all track rule shadows every later track rule, built-ins included.
        #expect(rules.phase(type: .track, event: "Never Reached", channel: "web") == .discover)
        #expect(rules.phase(type: .track, event: "Order Completed", channel: "web") == .discover)
        #expect(rules.phase(type: .page, event: nil, channel: "web") == .explore)
    }

    @Test func ruleConditionsAllMustMatch() {
        let rule = PhaseRule(phase: .buy, type: .track, event: "Paid", channel: "store")
        #expect(rule.matches(type: .track, event: "Paid", channel: "store", properties: nil))
        #expect(!rule.matches(type: .page, event: "Paid", channel: "store", properties: nil))
        #expect(!rule.matches(type: .track, event: "Paid", channel: "web", properties: nil))
        #expect(!rule.matches(type: .track, event: nil, channel: "store", properties: nil))
        #expect(PhaseRule(phase: .use).matches(type: .alias, event: nil, channel: "anything", properties: nil))
    }

    @Test func phasesHaveTheirNaturalOrder() {
        #expect(Phase.allCases.map(\.rawValue) == ["discover", "explore", "buy", "use", "ask", "engage"])
        #expect(Phase.discover < .explore && Phase.buy < .engage && !(Phase.ask < .use))
    }
}

@Suite("Phase rules with globs and property conditions")
struct PhaseRuleConditionTests {
    private func properties(_ json: String) -> JSONValue {
        try! JSONDocument(bytes: Array(json.utf8)).root
    }

    @Test(arguments: [
        ("Order *", "Order Completed", true), ("Order *", "Order ", true), ("Order *", "Orders", false),
        ("*Viewed", "Product Viewed", true), ("*Viewed", "Viewed", true), ("*Viewed", "Viewed Product", false),
        ("E?ail*", "Email Opened", true), ("E?ail*", "Eail", false), ("*a*b*", "xxaxxbxx", true), ("*a*b*", "xxbxxaxx", false),
        ("Grüße *", "Grüße Welt", true), ("Exact", "Exact", true), ("Exact", "exact", false), ("*", "", true),
    ] as [(String, String, Bool)])
    func eventNameGlobs(pattern: String, name: String, matches: Bool) {
        #expect(EventNamePattern(pattern).matches(name) == matches)
    }

    @Test func propertyConditionsTestTheEventsProperties() {
        let order = properties(#"{"total":120.5,"currency":"EUR","coupon":null,"customer":{"tier":"gold"},"first":true}"#)
        func holds(_ path: String, _ test: PropertyCondition.Test) -> Bool {
            PropertyCondition(path: path.split(separator: ".").map(String.init), test: test).holds(in: order)
        }
        #expect(holds("currency", .equals("EUR")) && !holds("currency", .equals("USD")))
        #expect(holds("total", .equals("120.50")) && holds("total", .greaterThan(100)) && !holds("total", .lessThan(100)))
        #expect(holds("total", .atLeast(120.5)) && holds("total", .atMost(120.5)))
        #expect(holds("customer.tier", .oneOf(["silver", "gold"])) && holds("first", .equals("true")))
        #expect(holds("currency", .notEquals("USD")) && !holds("currency", .notEquals("EUR")))
        // null counts as absent.
        #expect(holds("coupon", .exists(false)) && holds("missing", .exists(false)) && holds("total", .exists(true)))
        // A string is not a number.
        #expect(!holds("currency", .greaterThan(0)))
        #expect(!PropertyCondition(path: ["total"], test: .exists(true)).holds(in: nil))
    }

    @Test func operatorRulesComeFirstAndAllConditionsMustHold() {
        let rules = PhaseRules(operatorRules: [
            PhaseRule(phase: .buy, event: "Subscription *", properties: [PropertyCondition(path: ["plan"], test: .oneOf(["pro", "team"]))]),
            PhaseRule(phase: .engage, type: .track, channel: "email"),
        ])
        #expect(rules.operatorRuleCount == 2)
        let pro = properties(#"{"plan":"pro"}"#)
        #expect(rules.phase(type: .track, event: "Subscription Started", channel: "web", properties: pro) == .buy)
        #expect(rules.firstMatch(type: .track, event: "Subscription Started", channel: "web", properties: pro) == 0)
        #expect(rules.phase(type: .track, event: "Subscription Started", channel: "web", properties: properties(#"{"plan":"free"}"#)) == nil)
        // Built-in rules follow: an email-channel order is still found by the operator's channel rule first.
        #expect(rules.phase(type: .track, event: "Order Completed", channel: "email") == .engage)
        #expect(rules.firstMatch(type: .track, event: "Order Completed", channel: "web").map { $0 >= rules.operatorRuleCount } == true)
        #expect(rules.rules[0].description == #"{ phase: buy, event: "Subscription *", properties: { plan: { in: ["pro", "team"] } } }"#)
    }

    @Test func theNormaliserUsesTheEventsPropertiesOrTraits() throws {
        let rules = PhaseRules(operatorRules: [
            PhaseRule(phase: .buy, properties: [PropertyCondition(path: ["total"], test: .greaterThan(0))]),
            PhaseRule(phase: .engage, type: .identify, properties: [PropertyCondition(path: ["newsletter"], test: .equals("true"))]),
        ])
        let normaliser = EventNormaliser(settings: .init(phaseRules: rules))
        let envelope = EventNormaliser.Envelope(source: TestEvents.web, receivedAt: TestEvents.time("2026-03-01T12:00:00.000Z"))
        let track = try JSONDocument(bytes: Array(#"{"type":"track","event":"Paid","userId":"u","properties":{"total":3}}"#.utf8)).root
        #expect(try normaliser.normalise(track, envelope: envelope).phase == .buy)
        let identify = try JSONDocument(bytes: Array(#"{"type":"identify","userId":"u","traits":{"newsletter":true}}"#.utf8)).root
        #expect(try normaliser.normalise(identify, envelope: envelope).phase == .engage)
        let inputs = try normaliser.phaseInputs(identify)
        #expect(inputs.type == .identify && inputs.name == nil && inputs.properties?["newsletter"]?.bool == true)
        #expect(throws: EventRejection.self) { try normaliser.phaseInputs(try JSONDocument(bytes: Array(#"{"type":"track"}"#.utf8)).root) }
    }
}
