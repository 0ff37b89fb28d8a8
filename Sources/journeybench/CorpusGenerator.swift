import Foundation
import JourneyCore
import JourneySimulation

/// Generates a realistic stream of Segment events (analytics.js on the web, analytics-swift /
/// analytics-kotlin on phones) for a `Population`: sessions of page/screen views, searches,
/// product views, logins (`identify` + `Signed In`), carts and orders, with nested `context`
/// (library, device, ip, userAgent, campaign, page, os, app …), products in `properties`,
/// UUID message ids, anonymous ids per browser/install, user ids and emails for account holders,
/// household devices shared by two customers, skewed client clocks and late (offline) mobile
/// batches. Deterministic for a given seed.
struct CorpusGenerator {
    /// What the caller needs to know about one written event.
    struct EventInfo {
        var mobile: Bool
        /// Offset (in the writer's bytes) of 8 hex digits inside the message id that may be
        /// overwritten to make the id unique.
        var messageIDOffset: Int
        /// When the client sent it (ms since epoch, client clock), for an event sent on its own.
        var sentAt: Int64
        /// Offset of the `sentAt` timestamp's 24 bytes, so a batch can set one send time for all.
        var sentAtOffset: Int
        /// The device's clock error (ms), which its `sentAt` carries as well.
        var skew: Int64
        /// True time from which the event can be sent (a late event: when its device came online).
        var readyAt: Int64
    }

    private enum Page {
        case landing, product, search, category, cart, checkout
    }

    private enum Step {
        case page(Page)
        case screen(String)
        case track(String)
        case identify
    }

    let population: Population
    private let products: [Catalog.Product]
    private var rng: SplitMix64
    /// The simulated wall clock (ms since epoch): when the next session starts.
    private(set) var clock: Int64
    /// Per customer: bit `slot` set once the customer has logged in on device `slot`.
    private var loggedIn: [UInt8]

    // The session in progress.
    private var customer: Population.Customer
    private var slot = 0
    private var steps: [Step] = []
    private var stepIndex = 0
    private var sessionTime: Int64 = 0
    /// How far the session's events lie in the past when sent (offline mobile queues).
    private var lateBy: Int64 = 0
    private var campaign: Int?
    private var product = 0
    private var cart: [Int] = []
    private var page: Page = .landing
    private var orderID = ""

    /// 2025-03-01T00:00:00Z.
    static let epoch: Int64 = 1_740_787_200_000

    /// - Parameter start: when the first session starts (ms since epoch).
    init(seed: UInt64, population: Population, start: Int64 = Self.epoch) {
        self.population = population
        self.products = Catalog.products(seed: seed)
        self.rng = SplitMix64(seed: seed, stream: 0xC0FF_EE00_0000_0000)
        self.clock = start
        self.loggedIn = [UInt8](repeating: 0, count: population.count)
        self.customer = population.customer(0)
    }

    private var device: Population.Device { customer.devices[slot] }

    private var isLoggedIn: Bool { loggedIn[customer.index] & (1 << UInt8(slot)) != 0 }

    // MARK: sessions

    private mutating func startSession() {
        // Activity is skewed: a minority of customers produce most sessions.
        let index = min(population.count - 1, Int(Double(population.count) * pow(rng.unit(), 1.4)))
        customer = population.customer(index)
        slot = rng.below(customer.devices.count)
        clock += Int64(rng.exponential(mean: 1_500)) + 1
        sessionTime = clock
        lateBy = device.kind.isMobile && rng.chance(0.05) ? Int64(rng.int(in: 3_600...172_800)) * 1000 : 0
        campaign = rng.chance(0.3) ? rng.below(Catalog.campaigns.count) : nil
        product = rng.below(products.count)
        cart = []
        page = .landing
        orderID = ByteJSON.randomHex(12, using: &rng)
        stepIndex = 0
        steps = []

        let mobile = device.kind.isMobile
        if campaign != nil, Catalog.campaigns[campaign!].medium == "email", rng.chance(0.5) {
            steps.append(.track("Email Link Clicked"))
        }
        if mobile {
            steps.append(.track("Application Opened"))
            steps.append(.screen("Home"))
        } else {
            steps.append(.page(.landing))
        }
        if rng.chance(0.15) { steps.append(.track("Promotion Viewed")) }
        let browsing = 1 + min(7, Int(rng.exponential(mean: 1.8)))
        for _ in 0..<browsing {
            switch rng.below(10) {
            case 0..<5:
                steps.append(mobile ? .screen("Product Detail") : .page(.product))
                steps.append(.track("Product Viewed"))
            case 5..<7:
                steps.append(.track("Products Searched"))
                steps.append(mobile ? .screen("Search Results") : .page(.search))
            default:
                steps.append(mobile ? .screen("Category") : .page(.category))
                steps.append(.track("Product List Viewed"))
            }
        }
        let hasAccount = customer.userID != nil
        if hasAccount && !isLoggedIn && rng.chance(0.3) {
            let at = rng.int(in: 1...steps.count)
            steps.insert(contentsOf: [.identify, .track("Signed In")], at: at)
        }
        if rng.chance(0.25) {
            steps.append(.track("Product Added"))
            if rng.chance(0.5) {
                steps.append(mobile ? .screen("Cart") : .page(.cart))
                steps.append(.track("Cart Viewed"))
                if rng.chance(0.6) {
                    if hasAccount && !isLoggedIn && !steps.contains(where: { if case .identify = $0 { true } else { false } }) && rng.chance(0.8) {
                        steps.append(.identify)
                    }
                    steps.append(mobile ? .screen("Checkout") : .page(.checkout))
                    steps.append(.track("Checkout Started"))
                    if rng.chance(0.6) { steps.append(.track("Order Completed")) }
                }
            }
        }
        if rng.chance(0.03) { steps.append(.track("Product Reviewed")) }
        if rng.chance(0.03) { steps.append(.track("Help Article Viewed")) }
    }

    /// How long a client waits before flushing its queue (ms).
    mutating func flushDelay() -> Int {
        rng.int(in: 50...2_000)
    }

    // MARK: events

    /// Writes the next event of the stream as the next element of `writer`'s open array
    /// (or as a whole document when no container is open).
    mutating func writeEvent(into writer: inout ByteJSON) -> EventInfo {
        if stepIndex >= steps.count { startSession() }
        let step = steps[stepIndex]
        stepIndex += 1
        if stepIndex > 1 { sessionTime += Int64(rng.int(in: 3_000...90_000)) }

        let device = self.device
        let mobile = device.kind.isMobile
        // Some devices run a wrong clock; Segment's sentAt correction takes it out.
        let skew: Int64 = device.variant % 16 == 0 ? Int64(device.variant % 900 - 450) * 1000 : 0
        let eventTime = sessionTime - lateBy + skew
        let sentAt = lateBy > 0
            ? sessionTime + skew + Int64(rng.int(in: 100...5_000))
            : eventTime + Int64(mobile ? rng.int(in: 200...30_000) : rng.int(in: 30...1_500))

        switch step {
        case .page(let kind): page = kind
        case .track("Product Viewed"), .track("Product Added"):
            if !cart.isEmpty || rng.chance(0.6) { product = rng.below(products.count) }
        default: break
        }
        if case .track("Product Added") = step { cart.append(product) }

        writer.beginObject()
        if mobile, rng.chance(0.5) {
            writer.beginObject("_metadata")
            writer.beginArray("bundled"); writer.endArray()
            writer.beginArray("unbundled"); writer.endArray()
            writer.endObject()
        }
        writer.string("anonymousId", device.anonymousID)
        writeContext(&writer, step: step)
        switch step {
        case .track(let name): writer.string("event", name)
        case .page(let kind): writer.string("name", pageName(kind))
        case .screen(let name): writer.string("name", name)
        case .identify: break
        }
        writer.beginObject("integrations")
        if !mobile && rng.chance(0.2) { writer.bool("Google Analytics 4", false) }
        writer.endObject()
        let offset: Int
        if mobile {
            offset = writer.uuid("messageId", upper: device.kind == .ios, using: &rng)
        } else {
            offset = writer.uuid("messageId", prefix: "ajs-next-", using: &rng)
        }
        writer.timestamp(mobile ? "timestamp" : "originalTimestamp", Timestamp(millisecondsSinceEpoch: eventTime))
        switch step {
        case .identify: writeTraits(&writer)
        case .track(let name): writeTrackProperties(&writer, name)
        case .page(let kind): writePageProperties(&writer, kind)
        case .screen(let name):
            writer.beginObject("properties")
            writer.string("name", name)
            if name == "Product Detail" { writer.string("product_id", products[product].id) }
            writer.endObject()
        }
        let sentAtOffset = writer.timestamp("sentAt", Timestamp(millisecondsSinceEpoch: sentAt))
        switch step {
        case .track: writer.string("type", "track")
        case .page: writer.string("type", "page")
        case .screen: writer.string("type", "screen")
        case .identify: writer.string("type", "identify")
        }
        if case .identify = step { loggedIn[customer.index] |= 1 << UInt8(slot) }
        if isLoggedIn, let userID = customer.userID {
            if customer.userIDIsNumber {
                writer.key("userId")
                writer.bytes.append(contentsOf: userID.utf8)
            } else {
                writer.string("userId", userID)
            }
        }
        writer.endObject()
        return EventInfo(
            mobile: mobile, messageIDOffset: offset, sentAt: sentAt, sentAtOffset: sentAtOffset, skew: skew, readyAt: sessionTime)
    }

    private mutating func writeContext(_ writer: inout ByteJSON, step: Step) {
        let device = self.device
        writer.beginObject("context")
        switch device.kind {
        case .web:
            if let campaign, page == .landing || rng.chance(0.2) {
                let c = Catalog.campaigns[campaign]
                writer.beginObject("campaign")
                writer.string("name", c.name)
                writer.string("source", c.source)
                writer.string("medium", c.medium)
                writer.string("content", c.content)
                writer.endObject()
            }
            writer.string("ip", device.ip)
            writer.beginObject("library")
            writer.string("name", "analytics.js")
            writer.string("version", "npm:next-1.64.0")
            writer.endObject()
            writer.string("locale", Catalog.locales[device.variant % Catalog.locales.count])
            writer.beginObject("page")
            let (path, search, title) = pageFields(page)
            writer.string("path", path)
            writer.string("referrer", Catalog.referrers[device.variant % Catalog.referrers.count])
            writer.string("search", search)
            writer.string("title", title)
            writer.string("url", "https://shop.example.com" + path + search)
            writer.endObject()
            writer.string("timezone", Catalog.timezones[device.variant % Catalog.timezones.count])
            writer.string("userAgent", Catalog.webUserAgents[device.variant % Catalog.webUserAgents.count])
        case .ios, .android:
            let ios = device.kind == .ios
            writer.beginObject("app")
            writer.string("build", ios ? "4521" : "1052")
            writer.string("name", "Shopwise")
            writer.string("namespace", "com.example.shopwise")
            writer.string("version", ios ? "5.12.0" : "5.11.3")
            writer.endObject()
            writer.beginObject("device")
            writer.bool("adTrackingEnabled", device.variant % 3 == 0)
            if let id = device.deviceID { writer.string("id", id) }
            if ios {
                writer.string("manufacturer", "Apple")
                writer.string("model", Catalog.iosModels[device.variant % Catalog.iosModels.count])
                writer.string("name", "iPhone")
                writer.string("type", "ios")
            } else {
                let model = Catalog.androidModels[device.variant % Catalog.androidModels.count]
                writer.string("manufacturer", model.manufacturer)
                writer.string("model", model.model)
                writer.string("name", model.model)
                writer.string("type", "android")
            }
            writer.endObject()
            writer.string("ip", device.ip)
            writer.beginObject("library")
            writer.string("name", ios ? "analytics-swift" : "analytics-kotlin")
            writer.string("version", ios ? "1.5.11" : "1.15.0")
            writer.endObject()
            writer.string("locale", Catalog.locales[device.variant % Catalog.locales.count])
            writer.beginObject("network")
            writer.string("carrier", Catalog.carriers[device.variant % Catalog.carriers.count])
            writer.bool("cellular", device.variant % 4 == 0)
            writer.bool("wifi", device.variant % 4 != 0)
            writer.endObject()
            writer.beginObject("os")
            writer.string("name", ios ? "iOS" : "Android")
            writer.string("version", ios ? Catalog.iosVersions[device.variant % 4] : Catalog.androidVersions[device.variant % 3])
            writer.endObject()
            writer.beginObject("screen")
            writer.int("density", 3)
            writer.int("height", ios ? 932 : 2400)
            writer.int("width", ios ? 430 : 1080)
            writer.endObject()
            writer.string("timezone", Catalog.timezones[device.variant % Catalog.timezones.count])
            if isLoggedIn, let email = customer.email, device.variant % 5 < 2 {
                // RudderStack-style SDKs repeat the known traits in every call's context.
                writer.beginObject("traits")
                writer.string("email", email)
                writer.endObject()
            }
            writer.string("userAgent", ios ? "Shopwise/5.12.0 CFNetwork/1494.0.7 Darwin/23.4.0" : "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP1A.240405.002)")
        }
        writer.endObject()
    }

    private func pageName(_ kind: Page) -> StaticString {
        switch kind {
        case .landing: "Home"
        case .product: "Product"
        case .search: "Search Results"
        case .category: "Category"
        case .cart: "Cart"
        case .checkout: "Checkout"
        }
    }

    private func pageFields(_ kind: Page) -> (path: String, search: String, title: String) {
        let item = products[product]
        switch kind {
        case .landing:
            if let campaign {
                let c = Catalog.campaigns[campaign]
                return ("/", "?utm_source=\(c.source)&utm_medium=\(c.medium)&utm_campaign=\(c.name)", "Shopwise – Home")
            }
            return ("/", "", "Shopwise – Home")
        case .product: return ("/p/\(item.slug)-\(item.sku.lowercased())", "", "\(item.name) | Shopwise")
        case .search: return ("/search", "?q=" + Catalog.searches[product % Catalog.searches.count].replacingOccurrences(of: " ", with: "+"), "Search | Shopwise")
        case .category: return ("/c/\(item.category.lowercased().replacingOccurrences(of: " ", with: "-"))", "", "\(item.category) | Shopwise")
        case .cart: return ("/cart", "", "Your basket | Shopwise")
        case .checkout: return ("/checkout", "", "Checkout | Shopwise")
        }
    }

    private mutating func writePageProperties(_ writer: inout ByteJSON, _ kind: Page) {
        let (path, search, title) = pageFields(kind)
        writer.beginObject("properties")
        writer.string("path", path)
        writer.string("referrer", Catalog.referrers[device.variant % Catalog.referrers.count])
        writer.string("search", search)
        writer.string("title", title)
        writer.string("url", "https://shop.example.com" + path + search)
        if kind == .product { writer.string("category", products[product].category) }
        writer.endObject()
    }

    private mutating func writeTraits(_ writer: inout ByteJSON) {
        writer.beginObject("traits")
        if let email = customer.email { writer.string("email", email) }
        writer.string("firstName", customer.firstName.capitalized)
        writer.string("lastName", customer.lastName.capitalized)
        if let phone = customer.phone { writer.string("phone", phone) }
        writer.beginObject("address")
        writer.string("city", Catalog.cities[customer.city].city)
        writer.string("country", Catalog.cities[customer.city].country)
        writer.endObject()
        writer.timestamp("createdAt", Timestamp(millisecondsSinceEpoch: Self.epoch - Int64(customer.index % 1000) * 86_400_000))
        writer.string("plan", Catalog.plans[customer.plan])
        writer.bool("newsletter", customer.index % 3 == 0)
        writer.endObject()
    }

    private func writeProduct(_ writer: inout ByteJSON, _ index: Int, full: Bool, position: Int? = nil, quantity: Int = 1) {
        let item = products[index]
        writer.beginObject()
        writer.string("product_id", item.id)
        writer.string("sku", item.sku)
        writer.string("name", item.name)
        writer.money("price", cents: item.priceCents)
        if full {
            writer.string("brand", item.brand)
            writer.string("category", item.category)
            writer.string("variant", item.variant)
            writer.int("quantity", quantity)
            writer.string("url", "https://shop.example.com/p/\(item.slug)-\(item.sku.lowercased())")
            writer.string("image_url", "https://cdn.example.com/img/\(item.id).jpg")
        } else {
            writer.string("category", item.category)
            if quantity != 1 { writer.int("quantity", quantity) }
        }
        if let position { writer.int("position", position) }
        writer.endObject()
    }

    private mutating func writeTrackProperties(_ writer: inout ByteJSON, _ name: String) {
        writer.beginObject("properties")
        switch name {
        case "Product Viewed", "Product Added":
            let item = products[product]
            writer.string("product_id", item.id)
            writer.string("sku", item.sku)
            writer.string("name", item.name)
            writer.string("brand", item.brand)
            writer.string("category", item.category)
            writer.string("variant", item.variant)
            writer.money("price", cents: item.priceCents)
            writer.int("quantity", 1)
            writer.string("currency", "GBP")
            writer.money("value", cents: item.priceCents)
            writer.string("url", "https://shop.example.com/p/\(item.slug)-\(item.sku.lowercased())")
            writer.string("image_url", "https://cdn.example.com/img/\(item.id).jpg")
            if name == "Product Added" { writer.string("cart_id", orderID) }
        case "Products Searched":
            writer.string("query", Catalog.searches[product % Catalog.searches.count])
        case "Product List Viewed":
            let item = products[product]
            writer.string("list_id", "cat_" + item.category.lowercased().replacingOccurrences(of: " ", with: "_"))
            writer.string("category", item.category)
            writer.beginArray("products")
            for position in 1...rng.int(in: 2...4) {
                writeProduct(&writer, (product + position * 7) % products.count, full: false, position: position)
            }
            writer.endArray()
        case "Promotion Viewed":
            writer.string("promotion_id", "promo_\(product % 40)")
            writer.string("creative", "home_banner_\(product % 3)")
            writer.string("name", "Spring Sale")
            writer.string("position", "home_banner_top")
        case "Cart Viewed", "Checkout Started", "Order Completed":
            let items = cart.isEmpty ? [product] : cart
            let subtotal = items.reduce(0) { $0 + products[$1].priceCents }
            let shipping = subtotal > 5_000 ? 0 : 399
            let discount = rng.chance(0.2) ? subtotal / 10 : 0
            if name == "Cart Viewed" {
                writer.string("cart_id", orderID)
            } else {
                writer.string("checkout_id", "chk_" + orderID)
                writer.string("order_id", "ord_" + orderID)
                if name == "Order Completed" {
                    writer.string("affiliation", "Shopwise Online")
                    writer.money("total", cents: subtotal - discount + shipping)
                    writer.money("subtotal", cents: subtotal)
                    writer.money("revenue", cents: subtotal - discount)
                    writer.money("shipping", cents: shipping)
                    writer.money("tax", cents: subtotal / 6)
                    writer.money("discount", cents: discount)
                    if discount > 0 { writer.string("coupon", Catalog.coupons[product % Catalog.coupons.count]) }
                } else {
                    writer.money("value", cents: subtotal)
                }
                writer.string("currency", "GBP")
            }
            writer.beginArray("products")
            for (position, index) in items.prefix(3).enumerated() {
                writeProduct(&writer, index, full: name == "Order Completed" && items.count == 1, position: position + 1)
            }
            writer.endArray()
        case "Signed In":
            writer.string("method", device.variant % 3 == 0 ? "google" : (device.variant % 3 == 1 ? "apple" : "password"))
        case "Application Opened":
            writer.bool("from_background", rng.chance(0.4))
            writer.string("build", device.kind == .ios ? "4521" : "1052")
            writer.string("version", device.kind == .ios ? "5.12.0" : "5.11.3")
        case "Email Link Clicked":
            writer.string("email_id", "em_" + ByteJSON.randomHex(10, using: &rng))
            writer.string("email_subject", "Spring picks for you, \(customer.firstName.capitalized)")
            writer.string("link_url", "https://shop.example.com/?utm_source=newsletter&utm_medium=email")
        case "Product Reviewed":
            writer.string("product_id", products[product].id)
            writer.string("review_id", "rev_" + ByteJSON.randomHex(8, using: &rng))
            writer.string("review_body", "Does what it says. Arrived quickly — would buy again.")
            writer.int("rating", rng.int(in: 3...5))
        case "Help Article Viewed":
            writer.string("article_id", "kb_\(rng.below(500))")
            writer.string("title", "Where is my order?")
        default:
            break
        }
        writer.endObject()
    }
}
