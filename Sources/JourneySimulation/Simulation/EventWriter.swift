import Foundation
import JourneyCore

/// Writes the JSON text of one customer's events as each source sends them — analytics.js on the
/// website, analytics-swift/-kotlin in the app, the email provider's webhook, the call centre's
/// ticket export, the shops' point-of-sale bridge — and records every identifier value it puts
/// where journeyd reads identifiers (docs/IDENTITY.md), junk values included.
///
/// Every event ends with its `sentAt` (the end of the simulated period in the device's clock), so
/// a sender can restamp it in place. One event at a time: `begin`, one event method, `finish`.
/// A value owned by its `CustomerJourney`.
struct EventWriter {
    static let junkValues = ["null", "undefined", "0", "anonymous", "00000000-0000-0000-0000-000000000000", "-1", "NaN"]
    static let zeroUUID = "00000000-0000-0000-0000-000000000000"

    private let customer: SimulatedCustomer
    private let settings: SimulationSettings
    private let products: [Catalog.Product]
    /// Bit `slot` set once the customer is logged in on that (personal) device.
    private var loggedInSlots = 0

    private var json = ByteJSON(capacity: 1_536)
    private var identifiers: [RawIdentifier] = []
    private var messageID = ""
    private var time: Int64 = 0
    private var junk = false

    init(customer: SimulatedCustomer, settings: SimulationSettings, products: [Catalog.Product]) {
        self.customer = customer
        self.settings = settings
        self.products = products
    }

    func isLoggedIn(slot: Int) -> Bool { loggedInSlots & (1 << slot) != 0 }

    mutating func markLoggedIn(slot: Int) {
        if !customer.devices[slot].shared { loggedInSlots |= 1 << slot }
    }

    mutating func begin(time: Int64, junk: Bool) {
        self.time = time
        self.junk = junk
        json = ByteJSON(capacity: 1_536)
        identifiers = []
        json.beginObject()
    }

    mutating func finish() -> (json: [UInt8], identifiers: [RawIdentifier], messageID: String) {
        json.endObject()
        return (json.bytes, identifiers, messageID)
    }

    // MARK: web and app

    mutating func identify(slot: Int, signUp: Bool, using rng: inout SplitMix64) {
        clientEvent(slot: slot, type: "identify", name: nil, loggedIn: customer.hasAccount, using: &rng) { writer, _ in
            writer.json.beginObject("traits")
            if let email = writer.customer.email { writer.identifierString("email", email, type: "email") }
            if signUp && writer.customer.hasAccount {
                writer.json.string("first_name", writer.customer.firstName.capitalized)
                writer.json.string("last_name", writer.customer.lastName.capitalized)
                if writer.customer.phoneAtSignUp, let phone = writer.customer.phone { writer.identifierString("phone", phone, type: "phone") }
                if writer.customer.loyaltyLinkedOnline, let loyalty = writer.customer.loyaltyID {
                    writer.identifierString("loyaltyId", loyalty, type: "loyalty_id")
                }
            }
            writer.json.endObject()
        }
    }

    mutating func track(_ name: String, slot: Int, loggedIn: Bool, using rng: inout SplitMix64) {
        clientEvent(slot: slot, type: "track", name: name, loggedIn: loggedIn, using: &rng) { writer, rng in
            writer.trackProperties(name, using: &rng)
        }
    }

    mutating func page(_ name: String, slot: Int, loggedIn: Bool, using rng: inout SplitMix64) {
        clientEvent(slot: slot, type: "page", name: name, loggedIn: loggedIn, using: &rng) { writer, rng in
            let product = writer.products[rng.below(writer.products.count)]
            writer.json.beginObject("properties")
            let path = name == "Product" ? "/p/\(product.slug)" : "/" + name.lowercased().replacingOccurrences(of: " ", with: "-")
            writer.json.string("path", path)
            writer.json.string("title", name + " – Shopwise")
            writer.json.string("url", "https://shop.example.com" + path)
            writer.json.endObject()
        }
    }

    mutating func screen(_ name: String, slot: Int, loggedIn: Bool, using rng: inout SplitMix64) {
        clientEvent(slot: slot, type: "screen", name: name, loggedIn: loggedIn, using: &rng) { writer, rng in
            writer.json.beginObject("properties")
            writer.json.string("name", name)
            if name == "Product Detail" { writer.json.string("product_id", writer.products[rng.below(writer.products.count)].id) }
            writer.json.endObject()
        }
    }

    /// A call from the website's or the app's SDK on device `slot`.
    private mutating func clientEvent(
        slot: Int, type: String, name: String?, loggedIn: Bool, using rng: inout SplitMix64,
        payload: (inout EventWriter, inout SplitMix64) -> Void
    ) {
        let device = customer.devices[slot]
        let mobile = device.kind.isMobile
        // A junk value goes where it leaves the event another usable identifier.
        var junkUserID = false
        var junkDeviceID = false
        var junkAnonymousID = false
        if junk {
            if !loggedIn || !customer.hasAccount { junkUserID = true } else if mobile { junkDeviceID = true } else { junkAnonymousID = true }
        }
        if junkAnonymousID {
            identifierString("anonymousId", Self.junkValues[device.variant % Self.junkValues.count], type: "anonymous_id")
        } else {
            identifierString("anonymousId", device.anonymousID, type: "anonymous_id")
        }
        json.beginObject("context")
        json.string("ip", device.ip)
        json.beginObject("library")
        switch device.kind {
        case .web:
            json.string("name", "analytics.js")
            json.string("version", "npm:next-1.64.0")
        case .ios:
            json.string("name", "analytics-swift")
            json.string("version", "1.5.11")
        case .android:
            json.string("name", "analytics-kotlin")
            json.string("version", "1.15.0")
        }
        json.endObject()
        json.string("locale", Catalog.locales[device.variant % Catalog.locales.count])
        if mobile {
            json.beginObject("device")
            if junkDeviceID {
                identifierString("id", Self.zeroUUID, type: "device_id")
            } else if let id = device.deviceID {
                identifierString("id", id, type: "device_id")
            }
            json.string("manufacturer", device.kind == .ios ? "Apple" : Catalog.androidModels[device.variant % Catalog.androidModels.count].manufacturer)
            json.string("model", device.kind == .ios ? Catalog.iosModels[device.variant % Catalog.iosModels.count] : Catalog.androidModels[device.variant % Catalog.androidModels.count].model)
            json.endObject()
            json.beginObject("os")
            json.string("name", device.kind == .ios ? "iOS" : "Android")
            json.string("version", device.kind == .ios ? Catalog.iosVersions[device.variant % Catalog.iosVersions.count] : Catalog.androidVersions[device.variant % Catalog.androidVersions.count])
            json.endObject()
            if loggedIn, customer.hasAccount, let email = customer.email, device.variant % 5 < 2 {
                // RudderStack-style SDKs repeat the known traits in every call's context.
                json.beginObject("traits")
                identifierString("email", email, type: "email")
                json.endObject()
            }
        } else {
            json.string("userAgent", Catalog.webUserAgents[device.variant % Catalog.webUserAgents.count])
        }
        json.endObject()
        if let name {
            json.string(type == "track" ? "event" : "name", name)
        }
        messageID = mobile ? ByteJSON.uuidString(using: &rng, upper: device.kind == .ios) : "ajs-next-" + ByteJSON.uuidString(using: &rng)
        json.string("messageId", messageID)
        json.timestamp(mobile ? "timestamp" : "originalTimestamp", Timestamp(millisecondsSinceEpoch: time + device.skew))
        payload(&self, &rng)
        json.string("type", type)
        if junkUserID {
            identifierString("userId", Self.junkValues[(device.variant + Int(time % 7)) % Self.junkValues.count], type: "user_id")
        } else if loggedIn, customer.hasAccount {
            userID()
        }
        sentAt(skew: device.skew)
    }

    private mutating func trackProperties(_ name: String, using rng: inout SplitMix64) {
        json.beginObject("properties")
        let product = products[rng.below(products.count)]
        switch name {
        case "Product Viewed", "Product Added":
            json.string("product_id", product.id)
            json.string("sku", product.sku)
            json.string("name", product.name)
            json.string("category", product.category)
            json.money("price", cents: product.priceCents)
            json.string("currency", "GBP")
        case "Products Searched":
            json.string("query", rng.pick(Catalog.searches))
        case "Product List Viewed":
            json.string("category", product.category)
        case "Promotion Viewed":
            let campaign = rng.pick(Catalog.campaigns)
            json.string("promotion_id", campaign.name)
            json.string("creative", campaign.content)
        case "Cart Viewed", "Checkout Started", "Order Completed":
            json.string("order_id", "ord_" + ByteJSON.randomHex(12, using: &rng))
            json.money("total", cents: product.priceCents + 399)
            json.string("currency", "GBP")
            json.beginArray("products")
            json.beginObject()
            json.string("product_id", product.id)
            json.string("sku", product.sku)
            json.money("price", cents: product.priceCents)
            json.int("quantity", 1)
            json.endObject()
            json.endArray()
        case "Signed In", "Signed Up":
            json.string("method", rng.pick(["password", "google", "apple"]))
        case "Help Article Viewed":
            json.string("article_id", "kb_\(rng.below(500))")
        case "Product Reviewed":
            json.string("product_id", product.id)
            json.int("rating", rng.int(in: 2...5))
        default:
            break
        }
        json.endObject()
    }

    // MARK: email, call centre, store

    mutating func email(_ name: String, campaign: Int, using rng: inout SplitMix64) {
        serverJunk()
        library("braze-currents", "2.3.0")
        json.beginObject("traits")
        if let email = customer.email { identifierString("email", rng.chance(0.5) ? email.lowercased() : email, type: "email") }
        json.endObject()
        json.endObject()
        json.string("event", name)
        messageID = "esp-" + ByteJSON.randomHex(24, using: &rng)
        json.string("messageId", messageID)
        json.beginObject("properties")
        json.string("campaign_id", "newsletter-week-\(campaign)")
        json.string("email_subject", "New this week, \(customer.firstName.capitalized)")
        json.endObject()
        json.timestamp("timestamp", Timestamp(millisecondsSinceEpoch: time))
        json.string("type", "track")
        if customer.hasAccount, rng.chance(0.5) { userID() }
        sentAt(skew: 0)
    }

    mutating func call(_ name: String, call: Int, step: Int, withEmail: Bool, using rng: inout SplitMix64) {
        serverJunk()
        library("zendesk-export", "1.4.0")
        json.beginObject("traits")
        if let phone = customer.phone {
            let written: String
            switch (customer.index + call) % 3 {
            case 0: written = phone
            case 1: written = phone.replacingOccurrences(of: " ", with: "")
            default: written = phone.replacingOccurrences(of: " ", with: "-")
            }
            identifierString("phone", written, type: "phone")
        }
        if withEmail, let email = customer.email { identifierString("email", email, type: "email") }
        json.endObject()
        json.endObject()
        json.string("event", name)
        messageID = "tkt-\(customer.tag)-\(customer.index)-\(call)\(step)"
        json.string("messageId", messageID)
        json.beginObject("properties")
        json.string("ticket_id", "T\(customer.tag)-\(customer.index)-\(call)")
        json.string("reason", rng.pick(["Where is my order?", "Return an item", "Change my address", "Payment failed"]))
        json.int("duration_s", rng.int(in: 45...1_800))
        json.endObject()
        json.timestamp("timestamp", Timestamp(millisecondsSinceEpoch: time))
        json.string("type", "track")
        if customer.hasAccount, rng.chance(0.3) { userID() }
        sentAt(skew: 0)
    }

    mutating func store(_ name: String, visit: Int, withEmail: Bool, using rng: inout SplitMix64) {
        serverJunk()
        library("pos-bridge", "4.1.2")
        if withEmail, let email = customer.email {
            json.beginObject("traits")
            identifierString("email", email, type: "email")
            json.endObject()
        }
        json.endObject()
        json.string("event", name)
        let store = 100 + (customer.index + visit) % 40
        let receipt = "pos-\(store)-\(customer.tag)-\(customer.index)-\(visit)"
        messageID = receipt + (name == "Order Refunded" ? "-r" : "")
        json.string("messageId", messageID)
        let product = products[rng.below(products.count)]
        json.beginObject("properties")
        if let loyalty = customer.loyaltyID { identifierString("loyalty_id", loyalty, type: "loyalty_id") }
        json.string("order_id", receipt)
        json.string("store_id", "store_\(store)")
        json.money("total", cents: product.priceCents)
        json.string("currency", "GBP")
        json.beginArray("products")
        json.beginObject()
        json.string("sku", product.sku)
        json.string("name", product.name)
        json.money("price", cents: product.priceCents)
        json.endObject()
        json.endArray()
        json.endObject()
        json.timestamp("timestamp", Timestamp(millisecondsSinceEpoch: time))
        json.string("type", "track")
        sentAt(skew: 0)
    }

    /// Server-side sources send a junk `anonymousId` now and then (a placeholder their export fills in).
    private mutating func serverJunk() {
        if junk { identifierString("anonymousId", Self.junkValues[customer.index % Self.junkValues.count], type: "anonymous_id") }
    }

    /// Opens `context` and writes its `library`; the caller closes `context`.
    private mutating func library(_ name: String, _ version: String) {
        json.beginObject("context")
        json.beginObject("library")
        json.string("name", name)
        json.string("version", version)
        json.endObject()
    }

    private mutating func userID() {
        guard let userID = customer.userID else { return }
        if customer.userIDIsNumber {
            json.key("userId")
            json.bytes.append(contentsOf: userID.utf8)
            identifiers.append(RawIdentifier(type: "user_id", value: userID))
        } else {
            identifierString("userId", userID, type: "user_id")
        }
    }

    private mutating func identifierString(_ key: StaticString, _ value: String, type: String) {
        json.string(key, value)
        identifiers.append(RawIdentifier(type: type, value: value))
    }

    /// The last member: when the event was sent, in the sender's clock.
    private mutating func sentAt(skew: Int64) {
        json.timestamp("sentAt", Timestamp(millisecondsSinceEpoch: settings.end.millisecondsSinceEpoch + skew))
    }
}
