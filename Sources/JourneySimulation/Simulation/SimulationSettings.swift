import JourneyCore

/// What `journeyctl simulate` generates: how many customers over how many days from when, with
/// which seed, and how often each hard case occurs. A plain value; the same settings always give
/// byte-identical events and ground truth.
public struct SimulationSettings: Sendable, Equatable {
    public var seed: UInt64
    public var customers: Int
    /// Length of the simulated period; every customer's touchpoints fall inside it.
    public var days: Int
    /// When the simulated period begins.
    public var start: Timestamp
    public var rates: HardCaseRates

    /// 2025-03-01T00:00:00Z, the default start.
    public static let defaultStart = Timestamp(millisecondsSinceEpoch: 1_740_787_200_000)

    public init(seed: UInt64 = 1, customers: Int = 2_000, days: Int = 28, start: Timestamp = defaultStart, rates: HardCaseRates = HardCaseRates()) {
        self.seed = seed
        self.customers = customers
        self.days = days
        self.start = start
        self.rates = rates
    }

    /// The end of the simulated period: every event's `sentAt` is this moment in its device's clock
    /// (see `SimulatedCorpus.restampSentAt`).
    public var end: Timestamp { start + Int64(days) * 86_400_000 }

    /// Checks the settings, naming the first bad one.
    public func validate() throws(SimulationError) {
        guard customers >= 1 else { throw .invalidSetting("customers must be at least 1") }
        guard (1...3_650).contains(days) else { throw .invalidSetting("days must lie between 1 and 3650") }
        for (name, value) in rates.named where !(0...1).contains(value) {
            throw .invalidSetting("\(name) must lie between 0 and 1, not \(value)")
        }
    }
}

/// How often each hard case occurs. Each is a probability between 0 and 1; docs/SIMULATE.md says
/// what exactly each one applies to.
public struct HardCaseRates: Sendable, Equatable {
    /// Per household (customers 2k and 2k+1): the two share a device (a family tablet) and both log in on it.
    public var sharedDevice: Double
    /// Per event: it carries a junk identifier value ("null", "undefined", "0", an all-zero UUID …)
    /// besides its real ones.
    public var junk: Double
    /// Per event: it is delivered twice (a client retry), the copy seconds to minutes later.
    public var duplicate: Double
    /// Per web/app session and per server-side event: delivered 1–48 hours late (an offline
    /// queue), after events that happened later.
    public var outOfOrder: Double
    /// Per device: its clock is off by 1 minute to 36 hours; its `timestamp` and `sentAt` both carry the error.
    public var clockSkew: Double

    public init(sharedDevice: Double = 0.05, junk: Double = 0.02, duplicate: Double = 0.01, outOfOrder: Double = 0.05, clockSkew: Double = 0.05) {
        self.sharedDevice = sharedDevice
        self.junk = junk
        self.duplicate = duplicate
        self.outOfOrder = outOfOrder
        self.clockSkew = clockSkew
    }

    /// Every rate with the option name it is set by.
    public var named: [(String, Double)] {
        [("--shared-device-rate", sharedDevice), ("--junk-rate", junk), ("--duplicate-rate", duplicate),
         ("--out-of-order-rate", outOfOrder), ("--clock-skew-rate", clockSkew)]
    }
}

/// Why a simulation could not be generated, written, read or sent; each case says what to fix.
public enum SimulationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidSetting(String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case malformed(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidSetting(let reason): return "invalid setting: \(reason)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason); is it a directory written by journeyctl simulate --out?"
        case .malformed(let path, let line, let reason): return "\(path) line \(line): \(reason)"
        }
    }
}
