/// Plans one customer's journey through the six life-cycle phases over the simulated period and
/// writes its events: web and app sessions (discovery, browsing, sign-up and logins, carts and
/// orders, help and reviews), the newsletter's opens and clicks, call-centre tickets and store
/// purchases. Each customer has its own random stream, so journeys can be generated in any order
/// or in parallel and still give the same bytes.
///
/// Linking is possible for every event, as it is for a real company that knows its customers:
/// every device an account holder uses is logged in at least once, the newsletter address is the
/// sign-up address, the call centre learns the email on the first call when the phone was not
/// given at sign-up, and a store receipt carries the email until the loyalty card is linked
/// online. What makes stitching hard is the hard cases (`HardCaseRates`), not missing links.
///
/// A value used by one task at a time.
struct CustomerJourney {
    private let customer: SimulatedCustomer
    private let settings: SimulationSettings
    private let products: [Catalog.Product]
    private var rng: SplitMix64
    private var writer: EventWriter
    private(set) var events: [SimulatedEvent] = []
    /// When the customer signed up or subscribed: emails are sent only afterwards.
    private var subscribedAt: Int64?

    init(customer: SimulatedCustomer, settings: SimulationSettings, products: [Catalog.Product]) {
        self.customer = customer
        self.settings = settings
        self.products = products
        self.rng = SplitMix64(seed: settings.seed ^ 0x4A6F_7572_6E65_7900, stream: UInt64(customer.index))
        self.writer = EventWriter(customer: customer, settings: settings, products: products)
    }

    /// All of the customer's events, in the order they happened (arrival order is set per event).
    static func events(of customer: SimulatedCustomer, settings: SimulationSettings, products: [Catalog.Product]) -> [SimulatedEvent] {
        var journey = CustomerJourney(customer: customer, settings: settings, products: products)
        journey.walk()
        return journey.events
    }

    private var start: Int64 { settings.start.millisecondsSinceEpoch }
    private var end: Int64 { settings.end.millisecondsSinceEpoch }

    // MARK: planning

    private mutating func walk() {
        let sessions = planSessions()
        for session in sessions { runSession(session) }
        if customer.email != nil, let subscribedAt { newsletter(from: subscribedAt) }
        if customer.phone != nil { callCentre() }
        if customer.loyaltyID != nil { storeVisits() }
    }

    private struct Session {
        var time: Int64
        var slot: Int
        /// Log in (or sign up / subscribe) during this session.
        var login: Bool
        /// The first session on this device.
        var first: Bool
    }

    private mutating func planSessions() -> [Session] {
        let mean = customer.hasAccount ? 4.0 : 2.0
        let count = customer.devices.count + min(30, Int(rng.exponential(mean: mean)))
        var times = (0..<count).map { _ in start + Int64(rng.unit() * Double(end - start - 7_200_000)) }
        times.sort()
        // Every device gets at least one session; the rest go to random devices.
        var slots = Array(customer.devices.indices)
        while slots.count < count { slots.append(rng.below(customer.devices.count)) }
        for index in stride(from: slots.count - 1, to: 0, by: -1) { slots.swapAt(index, rng.below(index + 1)) }
        var sessions = zip(times, slots).map { Session(time: $0, slot: $1, login: false, first: false) }
        var seen = Set<Int>()
        for index in sessions.indices where seen.insert(sessions[index].slot).inserted { sessions[index].first = true }
        guard customer.hasAccount || customer.email != nil else { return sessions }
        if !customer.hasAccount {
            // A guest subscribes to the newsletter in one session.
            sessions[rng.below(sessions.count)].login = true
            return sessions
        }
        for slot in customer.devices.indices {
            let mine = sessions.indices.filter { sessions[$0].slot == slot }
            if customer.devices[slot].shared {
                // On the family tablet each session starts logged out; most log in.
                for index in mine where rng.chance(0.8) { sessions[index].login = true }
                if !mine.contains(where: { sessions[$0].login }), let first = mine.first { sessions[first].login = true }
            } else {
                let chosen = rng.chance(0.6) ? mine[0] : mine[rng.below(mine.count)]
                sessions[chosen].login = true
            }
        }
        return sessions
    }

    // MARK: web and app sessions

    private enum Step {
        case page(String)
        case screen(String)
        case track(String)
        case login
    }

    private mutating func runSession(_ session: Session) {
        let device = customer.devices[session.slot]
        let mobile = device.kind.isMobile
        var steps: [Step] = []
        if session.first {
            steps.append(mobile ? .track("Application Installed") : .track("Promotion Viewed"))
        } else if rng.chance(0.15) {
            steps.append(.track("Promotion Viewed"))
        }
        if mobile {
            steps.append(.track("Application Opened"))
            steps.append(.screen("Home"))
        } else {
            steps.append(.page("Home"))
        }
        for _ in 0..<(1 + min(5, Int(rng.exponential(mean: 1.5)))) {
            switch rng.below(10) {
            case 0..<5:
                steps.append(mobile ? .screen("Product Detail") : .page("Product"))
                steps.append(.track("Product Viewed"))
            case 5..<7:
                steps.append(.track("Products Searched"))
                steps.append(mobile ? .screen("Search Results") : .page("Search Results"))
            default:
                steps.append(mobile ? .screen("Category") : .page("Category"))
                steps.append(.track("Product List Viewed"))
            }
        }
        if session.login { steps.insert(.login, at: rng.int(in: device.shared ? 0...1 : 0...steps.count)) }
        if rng.chance(0.25) {
            steps.append(.track("Product Added"))
            steps.append(mobile ? .screen("Cart") : .page("Cart"))
            steps.append(.track("Cart Viewed"))
            if rng.chance(0.6) {
                steps.append(.track("Checkout Started"))
                if rng.chance(0.7) { steps.append(.track("Order Completed")) }
            }
        }
        if rng.chance(0.05) { steps.append(.track("Help Article Viewed")) }
        if rng.chance(0.04) { steps.append(.track("Product Reviewed")) }

        let late = rng.chance(settings.rates.outOfOrder) ? Int64(rng.int(in: 3_600...172_800)) * 1000 : 0
        var time = session.time
        var loggedIn = writer.isLoggedIn(slot: session.slot) && !device.shared
        for step in steps {
            time += Int64(rng.int(in: 3_000...90_000))
            let source: SimulatedSource = mobile ? .app : .website
            switch step {
            case .login:
                if customer.hasAccount {
                    let signUp = subscribedAt == nil
                    emit(source, time: time, late: late) { $0.identify(slot: session.slot, signUp: signUp, using: &$1) }
                    time += Int64(rng.int(in: 500...3_000))
                    emit(source, time: time, late: late) {
                        $0.track(signUp ? "Signed Up" : "Signed In", slot: session.slot, loggedIn: true, using: &$1)
                    }
                    writer.markLoggedIn(slot: session.slot)
                    loggedIn = true
                    if signUp { subscribedAt = time }
                } else {
                    emit(source, time: time, late: late) { $0.identify(slot: session.slot, signUp: true, using: &$1) }
                    time += Int64(rng.int(in: 500...3_000))
                    emit(source, time: time, late: late) { $0.track("Newsletter Subscribed", slot: session.slot, loggedIn: false, using: &$1) }
                    subscribedAt = subscribedAt ?? time
                }
            case .page(let name):
                emit(source, time: time, late: late) { $0.page(name, slot: session.slot, loggedIn: loggedIn, using: &$1) }
            case .screen(let name):
                emit(source, time: time, late: late) { $0.screen(name, slot: session.slot, loggedIn: loggedIn, using: &$1) }
            case .track(let name):
                emit(source, time: time, late: late) { $0.track(name, slot: session.slot, loggedIn: loggedIn, using: &$1) }
            }
        }
    }

    // MARK: other channels

    /// A weekly newsletter from the subscription on: opens and clicks (engage).
    private mutating func newsletter(from subscribed: Int64) {
        var send = subscribed + Int64(rng.int(in: 1...7)) * 86_400_000
        var campaign = 0
        while send < end {
            campaign += 1
            if rng.chance(0.35) {
                var time = send + Int64(rng.exponential(mean: 21_600_000))
                emit(.email, time: time, late: serverLate()) { $0.email("Email Opened", campaign: campaign, using: &$1) }
                if rng.chance(0.3) {
                    time += Int64(rng.int(in: 5_000...1_800_000))
                    emit(.email, time: time, late: serverLate()) { $0.email("Email Link Clicked", campaign: campaign, using: &$1) }
                }
            }
            send += 7 * 86_400_000
        }
    }

    /// Zero to two calls after the first week, each a received call and a ticket (ask).
    private mutating func callCentre() {
        let calls = rng.pick([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
        var time = start + 7 * 86_400_000
        for call in 0..<calls {
            time += Int64(rng.unit() * Double(max(1, (end - time) / 2)))
            let verifiedEmail = (call == 0 && !customer.phoneAtSignUp) || rng.chance(0.5)
            emit(.callCentre, time: time, late: serverLate()) {
                $0.call("Call Received", call: call, step: 0, withEmail: verifiedEmail, using: &$1)
            }
            emit(.callCentre, time: time + Int64(rng.int(in: 60_000...900_000)), late: serverLate()) {
                $0.call("Ticket Created", call: call, step: 1, withEmail: verifiedEmail, using: &$1)
            }
        }
    }

    /// One to three purchases in the shops with the loyalty card (buy), sometimes a refund (ask).
    private mutating func storeVisits() {
        let visits = rng.int(in: 1...3)
        for visit in 0..<visits {
            let time = start + Int64(rng.unit() * Double(end - start - 3_600_000))
            let receiptEmail = (visit == 0 && !customer.loyaltyLinkedOnline) || rng.chance(0.3)
            emit(.store, time: time, late: serverLate()) { $0.store("Order Completed", visit: visit, withEmail: receiptEmail, using: &$1) }
            if rng.chance(0.1), time + 86_400_000 < end {
                emit(.store, time: time + Int64(rng.int(in: 1...5)) * 86_400_000, late: serverLate()) {
                    $0.store("Order Refunded", visit: visit, withEmail: false, using: &$1)
                }
            }
        }
    }

    private mutating func serverLate() -> Int64 {
        rng.chance(settings.rates.outOfOrder) ? Int64(rng.int(in: 3_600...172_800)) * 1000 : 0
    }

    // MARK: events

    /// Writes one event with `body` and records it with its arrival time, junk and duplicates decided here.
    private mutating func emit(_ source: SimulatedSource, time: Int64, late: Int64, _ body: (inout EventWriter, inout SplitMix64) -> Void) {
        writer.begin(time: time, junk: rng.chance(settings.rates.junk))
        body(&writer, &rng)
        let (json, identifiers, messageID) = writer.finish()
        events.append(SimulatedEvent(
            source: source, messageID: messageID, customer: customer.index, household: customer.household, time: time,
            arrival: time + late + Int64(rng.int(in: 50...3_000)), deliveries: rng.chance(settings.rates.duplicate) ? 2 : 1,
            identifiers: identifiers, json: json))
    }
}
