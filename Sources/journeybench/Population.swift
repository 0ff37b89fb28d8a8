import JourneySimulation

/// The simulated customers behind every generated event: who they are, which browsers and
/// phones they use, and which of those devices they share with someone else.
///
/// Each customer is derived from (`seed`, index) alone, so a customer can be rebuilt on demand
/// instead of being kept in memory (the stitcher benchmark measures memory around it).
struct Population {
    enum DeviceKind {
        case web, ios, android

        var isMobile: Bool { self != .web }
    }

    struct Device {
        var kind: DeviceKind
        /// `anonymousId`: the SDK's per-install (or per-browser) id.
        var anonymousID: String
        /// `context.device.id` on mobile.
        var deviceID: String?
        var ip: String
        var variant: Int
        /// A household device also used by the neighbouring customer (index ^ 1).
        var shared: Bool
    }

    struct Customer {
        var index: Int
        var devices: [Device]
        /// Nil for customers who never create an account.
        var userID: String?
        /// Some SDKs send numeric user ids as JSON numbers.
        var userIDIsNumber: Bool
        var email: String?
        var phone: String?
        var firstName: String
        var lastName: String
        var city: Int
        var plan: Int
    }

    let seed: UInt64
    let count: Int

    /// Share of customers with an account (a user id and an email).
    static let accountShare = 0.6
    /// Share of neighbouring customer pairs sharing one household device (a family tablet).
    static let sharedDeviceShare = 0.06

    init(seed: UInt64, count: Int) {
        self.seed = seed
        self.count = max(1, count)
    }

    func customer(_ index: Int) -> Customer {
        var rng = SplitMix64(seed: seed, stream: UInt64(index))
        let first = rng.pick(Catalog.firstNames)
        let last = rng.pick(Catalog.lastNames)
        var devices: [Device] = []
        let deviceCount = rng.pick([1, 1, 2, 2, 2, 3, 3, 4])
        for slot in 0..<deviceCount {
            let roll = rng.below(10)
            let kind: DeviceKind = slot == 0 || roll < 5 ? .web : (roll < 8 ? .ios : .android)
            devices.append(Self.device(kind: kind, shared: false, using: &rng))
        }
        // Households: customers 2k and 2k+1 may share one extra device.
        let partner = index ^ 1
        if partner < count {
            var household = SplitMix64(seed: seed ^ 0x486F_7573_6568_6F6C, stream: UInt64(index / 2))
            if household.chance(Self.sharedDeviceShare) {
                let kind: DeviceKind = household.chance(0.5) ? .web : .ios
                devices.append(Self.device(kind: kind, shared: true, using: &household))
            }
        }

        var userID: String?
        var email: String?
        var phone: String?
        var userIDIsNumber = false
        if rng.chance(Self.accountShare) {
            switch rng.below(10) {
            case 0..<4: userID = "usr_" + String(1_000_000_000 + rng.below(8_999_999_999))
            case 4..<7: userID = ByteJSON.uuidString(using: &rng)
            default:
                userID = String(100_000 + index)
                userIDIsNumber = rng.chance(0.3)
            }
            let domain = rng.pick(Catalog.emailDomains)
            let local = "\(first).\(last)\(rng.chance(0.5) ? String(rng.below(100)) : "")"
            // Some senders keep the capitalisation people type; the normaliser lower-cases.
            email = rng.chance(0.2) ? "\(local)@\(domain)" : "\(local)@\(domain)".lowercased()
            if rng.chance(0.4) {
                phone = "+44 7\(rng.below(10))\(rng.below(10)) \(100_000 + rng.below(900_000))"
            }
        }
        return Customer(
            index: index, devices: devices, userID: userID, userIDIsNumber: userIDIsNumber, email: email, phone: phone,
            firstName: first, lastName: last, city: rng.below(Catalog.cities.count), plan: rng.below(Catalog.plans.count))
    }

    private static func device(kind: DeviceKind, shared: Bool, using rng: inout SplitMix64) -> Device {
        let anonymousID = ByteJSON.uuidString(using: &rng, upper: kind == .ios)
        let deviceID: String? = kind.isMobile ? ByteJSON.uuidString(using: &rng, upper: kind == .ios) : nil
        let ip: String
        if rng.chance(0.8) {
            ip = "\(rng.int(in: 11...223)).\(rng.below(256)).\(rng.below(256)).\(rng.int(in: 1...254))"
        } else {
            ip = "2a02:c7c:\(String(rng.below(65536), radix: 16)):\(String(rng.below(65536), radix: 16))::\(String(rng.int(in: 1...65535), radix: 16))"
        }
        return Device(kind: kind, anonymousID: anonymousID, deviceID: deviceID, ip: ip, variant: rng.below(1 << 16), shared: shared)
    }
}
