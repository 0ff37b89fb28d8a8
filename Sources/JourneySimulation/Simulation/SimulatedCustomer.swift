import Foundation

/// One simulated person: the devices and browsers they use, the identifiers they have, and the
/// household partner they may share a device with. Derived from (seed, index) alone by
/// `SimulatedPopulation`, so any customer can be rebuilt on demand.
public struct SimulatedCustomer: Sendable {
    public enum DeviceKind: Sendable {
        case web, ios, android

        var isMobile: Bool { self != .web }
    }

    /// A browser or an app install.
    public struct Device: Sendable {
        public var kind: DeviceKind
        /// `anonymousId`: the SDK's per-browser or per-install id.
        public var anonymousID: String
        /// `context.device.id` (apps only).
        public var deviceID: String?
        /// Milliseconds the device's clock is ahead (negative: behind) of true time.
        public var skew: Int64
        /// Also used by the household partner.
        public var shared: Bool
        public var ip: String
        /// Picks user agent, locale, model … from the catalogue.
        public var variant: Int
    }

    public var index: Int
    /// The simulation's tag (0–999, from the seed): part of every id the customer's records carry.
    public var tag: Int
    /// Household number (index / 2) when this customer shares a device with its partner (index ^ 1).
    public var household: Int?
    public var devices: [Device]
    /// Account holders have a user id and an email; guests have neither (a guest may still
    /// subscribe to the newsletter with an email).
    public var userID: String?
    /// Some SDKs send numeric user ids as JSON numbers.
    public var userIDIsNumber: Bool
    /// As the customer types it (capitals and all); journeyd lower-cases it.
    public var email: String?
    /// Written with spaces as people give it, always with the country code.
    public var phone: String?
    /// Whether the phone was given at sign-up (otherwise only the call centre learns it).
    public var phoneAtSignUp: Bool
    /// Loyalty card number for store purchases (account holders only).
    public var loyaltyID: String?
    /// Whether the card was linked to the account online (otherwise the first store receipt carries the email).
    public var loyaltyLinkedOnline: Bool
    public var firstName: String
    public var lastName: String

    public var hasAccount: Bool { userID != nil }
}

/// Builds the customers of a simulation from its seed. Customers 2k and 2k+1 form a household;
/// with probability `sharedDevice` the pair shares one extra device (both then have accounts and
/// both log in on it). Guests use one device; account holders one to four.
///
/// User ids, emails, phones and loyalty numbers hold the customer's index and a tag derived from
/// the seed, so they are unique within a simulation and two simulations with different seeds sent
/// to one daemon share none (for the phone, 999 in 1,000 pairs of seeds).
public struct SimulatedPopulation: Sendable {
    public let seed: UInt64
    public let count: Int
    public let sharedDeviceRate: Double
    public let clockSkewRate: Double
    /// 0–999, from the seed.
    let tag: Int

    public static let accountShare = 0.7
    public static let guestNewsletterShare = 0.3
    public static let phoneShare = 0.8
    public static let loyaltyShare = 0.4

    public init(settings: SimulationSettings) {
        seed = settings.seed
        count = settings.customers
        sharedDeviceRate = settings.rates.sharedDevice
        clockSkewRate = settings.rates.clockSkew
        tag = Int(SplitMix64.mix(settings.seed) % 1_000)
    }

    /// Whether household `household` (customers 2h and 2h+1) shares a device.
    public func sharesDevice(household: Int) -> Bool {
        guard 2 * household + 1 < count else { return false }
        var rng = SplitMix64(seed: seed ^ 0x486F_7573_6568_6F6C, stream: UInt64(household))
        return rng.chance(sharedDeviceRate)
    }

    public func customer(_ index: Int) -> SimulatedCustomer {
        var rng = SplitMix64(seed: seed, stream: UInt64(index))
        let first = rng.pick(Catalog.firstNames)
        let last = rng.pick(Catalog.lastNames)
        let household = index / 2
        let sharing = sharesDevice(household: household)
        let hasAccount = sharing || rng.chance(Self.accountShare)

        var devices: [SimulatedCustomer.Device] = []
        let deviceCount = hasAccount ? rng.pick([1, 1, 2, 2, 2, 3, 3, 4]) : 1
        for slot in 0..<deviceCount {
            let roll = rng.below(10)
            // Account holders sign up on the website first; a guest's one device may be an app.
            let web = slot == 0 ? hasAccount || roll < 7 : roll < 5
            let kind: SimulatedCustomer.DeviceKind = web ? .web : (roll % 2 == 0 ? .ios : .android)
            devices.append(device(kind: kind, shared: false, using: &rng))
        }
        if sharing {
            var shared = SplitMix64(seed: seed ^ 0x5461_626C_6574_0000, stream: UInt64(household))
            devices.append(device(kind: shared.chance(0.5) ? .web : .ios, shared: true, using: &shared))
        }

        var customer = SimulatedCustomer(
            index: index, tag: tag, household: sharing ? household : nil, devices: devices, userID: nil, userIDIsNumber: false, email: nil,
            phone: nil, phoneAtSignUp: false, loyaltyID: nil, loyaltyLinkedOnline: false, firstName: first, lastName: last)
        let local = "\(first).\(last).\(tag).\(index)"
        let domain = rng.pick(Catalog.emailDomains)
        let email = rng.chance(0.2) ? "\(local.capitalized)@\(domain)" : "\(local)@\(domain)"
        if hasAccount {
            switch rng.below(10) {
            case 0..<4: customer.userID = "usr_\(tag)_\(index)"
            case 4..<7: customer.userID = ByteJSON.uuidString(using: &rng)
            default:
                customer.userID = String((tag + 1) * 10_000_000 + index)
                customer.userIDIsNumber = rng.chance(0.3)
            }
            customer.email = email
            if rng.chance(Self.phoneShare) {
                let digits = String(7_000_000_000 + tag * 1_000_000 + index)
                customer.phone = "+44 \(digits.prefix(4)) \(digits.dropFirst(4))"
                customer.phoneAtSignUp = rng.chance(0.5)
            }
            if rng.chance(Self.loyaltyShare) {
                customer.loyaltyID = "LY\(tag)-\(index)"
                customer.loyaltyLinkedOnline = rng.chance(0.6)
            }
        } else if rng.chance(Self.guestNewsletterShare) {
            customer.email = email
        }
        return customer
    }

    private func device(kind: SimulatedCustomer.DeviceKind, shared: Bool, using rng: inout SplitMix64) -> SimulatedCustomer.Device {
        let anonymousID = ByteJSON.uuidString(using: &rng, upper: kind == .ios)
        let deviceID: String? = kind.isMobile ? ByteJSON.uuidString(using: &rng, upper: kind == .ios) : nil
        var skew: Int64 = 0
        if rng.chance(clockSkewRate) {
            let magnitude = Int64(rng.int(in: 60...129_600)) * 1000
            skew = rng.chance(0.5) ? magnitude : -magnitude
        }
        let ip = "\(rng.int(in: 11...223)).\(rng.below(256)).\(rng.below(256)).\(rng.int(in: 1...254))"
        return SimulatedCustomer.Device(
            kind: kind, anonymousID: anonymousID, deviceID: deviceID, skew: skew, shared: shared, ip: ip, variant: rng.below(1 << 16))
    }
}
