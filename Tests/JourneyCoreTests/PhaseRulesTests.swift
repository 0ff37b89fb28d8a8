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
            guard let event = rule.event else { continue }
            #expect(rule.type == .track)
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
        #expect(rule.matches(type: .track, event: "Paid", channel: "store"))
        #expect(!rule.matches(type: .page, event: "Paid", channel: "store"))
        #expect(!rule.matches(type: .track, event: "Paid", channel: "web"))
        #expect(!rule.matches(type: .track, event: nil, channel: "store"))
        #expect(PhaseRule(phase: .use).matches(type: .alias, event: nil, channel: "anything"))
    }

    @Test func phasesHaveTheirNaturalOrder() {
        #expect(Phase.allCases.map(\.rawValue) == ["discover", "explore", "buy", "use", "ask", "engage"])
        #expect(Phase.discover < .explore && Phase.buy < .engage && !(Phase.ask < .use))
    }
}
