/// Static vocabulary for the generated corpus: names, products, pages, user agents, campaigns.
public enum Catalog {
    public static let firstNames = [
        "olivia", "amelia", "isla", "ava", "mia", "ivy", "lily", "isabella", "rosie", "sophia", "grace", "freya",
        "noah", "oliver", "george", "leo", "arthur", "muhammad", "harry", "oscar", "archie", "henry", "theo", "jack",
        "zoë", "chloé", "josé", "andrés", "søren", "łukasz", "priya", "wei", "yuki", "amara", "kwame", "fatima",
    ]
    public static let lastNames = [
        "smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "patel", "wright",
        "robinson", "thompson", "evans", "walker", "white", "roberts", "green", "hall", "thomas", "clarke",
        "jackson", "wood", "harris", "edwards", "turner", "martin", "cooper", "hill", "ward", "hughes", "nguyen",
        "garcía", "müller", "kowalski", "okafor", "tanaka",
    ]
    public static let emailDomains = ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "hotmail.com", "proton.me", "btinternet.com", "example.org"]
    public static let cities: [(city: String, country: String)] = [
        ("London", "GB"), ("Manchester", "GB"), ("Leeds", "GB"), ("Glasgow", "GB"), ("Dublin", "IE"), ("Berlin", "DE"),
        ("München", "DE"), ("Paris", "FR"), ("Lyon", "FR"), ("Madrid", "ES"), ("New York", "US"), ("Austin", "US"),
        ("Toronto", "CA"), ("São Paulo", "BR"), ("Kraków", "PL"), ("Zürich", "CH"),
    ]
    public static let plans = ["free", "basic", "plus", "premium", "business"]
    public static let locales = ["en-GB", "en-US", "en-IE", "de-DE", "fr-FR", "es-ES", "pl-PL", "pt-BR"]
    public static let timezones = ["Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago", "America/Sao_Paulo"]

    public static let webUserAgents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    ]
    public static let iosModels = ["iPhone15,2", "iPhone15,3", "iPhone16,1", "iPhone14,5", "iPhone13,2", "iPad13,18"]
    public static let androidModels: [(manufacturer: String, model: String)] = [
        ("Google", "Pixel 8"), ("Google", "Pixel 7a"), ("samsung", "SM-S918B"), ("samsung", "SM-A546B"), ("OnePlus", "CPH2449"), ("Xiaomi", "23049PCD8G"),
    ]
    public static let iosVersions = ["17.4.1", "17.3.1", "16.7.7", "17.5"]
    public static let androidVersions = ["14", "13", "12"]
    public static let carriers = ["EE", "Vodafone UK", "O2 - UK", "Three", "T-Mobile", "Verizon"]

    public static let campaigns: [(name: String, source: String, medium: String, content: String)] = [
        ("spring_sale_2025", "newsletter", "email", "hero_banner"), ("brand_search", "google", "cpc", "text_ad_v3"),
        ("retargeting_q2", "facebook", "paid_social", "carousel_2"), ("summer_preview", "instagram", "social", "story_1"),
        ("loyalty_winback", "braze", "email", "cta_bottom"), ("affiliate_deals", "awin", "affiliate", "deal_list"),
    ]
    public static let referrers = [
        "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/", "https://www.facebook.com/",
        "https://t.co/", "https://www.instagram.com/", "",
    ]
    public static let searches = ["running shoes", "rain jacket", "coffee grinder", "wireless earbuds", "yoga mat", "gift for dad", "crème brûlée torch", "usb-c cable"]

    public static let categories = ["Shoes", "Outerwear", "Kitchen", "Audio", "Fitness", "Home", "Garden", "Toys & Games", "Beauty", "Books"]
    public static let brands = ["Northwind", "Acme", "Globex", "Umbrella Co", "Initech", "Hooli", "Vandelay", "Stark & Sons", "Müller Haus", "Café Lumière"]
    public static let adjectives = ["Classic", "Ultralight", "Everyday", "Premium", "Compact", "Organic", "Vintage", "Pro", "Heritage", "Smart"]
    public static let materials = ["Cotton", "Merino", "Bamboo", "Leather", "Steel", "Ceramic", "Recycled", "Waterproof", "Oak", "Linen"]
    public static let nouns = [
        "Trainers", "Rain Jacket", "Pour-Over Kettle", "Earbuds", "Yoga Mat", "Throw Blanket", "Planter", "Board Game",
        "Face Serum", "Notebook", "Backpack", "Chef's Knife", "12\" Pizza Stone", "Crème Brûlée Torch", "Desk Lamp",
    ]
    public static let variants = ["S", "M", "L", "XL", "Black", "Navy", "Sage", "Oat", "200 pieces", "500 ml", "1 kg"]
    public static let coupons = ["SPRING10", "WELCOME15", "FREESHIP", "MAYDEALS", "VIP20"]

    public struct Product: Sendable {
        public var id: String
        public var sku: String
        public var name: String
        public var brand: String
        public var category: String
        public var variant: String
        public var priceCents: Int
        public var slug: String
    }

    /// A deterministic catalogue of `count` products.
    public static func products(seed: UInt64, count: Int = 2_000) -> [Product] {
        var rng = SplitMix64(seed: seed ^ 0x5052_4F44_5543_5453, stream: 0)
        return (0..<count).map { index in
            let name = "\(rng.pick(adjectives)) \(rng.pick(materials)) \(rng.pick(nouns))"
            let slug = String(name.lowercased().unicodeScalars.map { $0.isASCII && $0.properties.isAlphabetic ? Character($0) : "-" })
            return Product(
                id: ByteJSON.randomHex(24, using: &rng), sku: "SKU-\(10_000 + index)", name: name, brand: rng.pick(brands),
                category: rng.pick(categories), variant: rng.pick(variants), priceCents: 299 + rng.below(24_000), slug: slug)
        }
    }
}
