/// One generated event: its JSON text as the source sends it, and what the ground truth records
/// about it. Built by `CustomerJourney`, ordered by arrival in `SimulatedCorpus`.
public struct SimulatedEvent: Sendable {
    public var source: SimulatedSource
    public var messageID: String
    public var customer: Int
    /// The household number when the customer shares a device with a partner.
    public var household: Int?
    /// When it happened (true time, ms since the epoch).
    public var time: Int64
    /// When it reaches the sender (simulated ms): the order in which it is sent.
    public var arrival: Int64
    /// 1, or 2 for an event delivered twice.
    public var deliveries: Int
    /// Every identifier value the event carries where journeyd reads identifiers, as sent (junk included).
    public var identifiers: [RawIdentifier]
    /// The event as one line of JSON text, without the newline; `sentAt` is always its last member.
    public var json: [UInt8]
}

/// An identifier value as an event carries it, before journeyd's normalisation (trimming,
/// lower-casing emails, phone digits, the junk-value blocklist).
public struct RawIdentifier: Sendable, Hashable {
    /// journeyd's type name: `user_id`, `anonymous_id`, `device_id`, `email`, `phone`, `loyalty_id`.
    public var type: String
    public var value: String

    public init(type: String, value: String) {
        self.type = type
        self.value = value
    }
}
