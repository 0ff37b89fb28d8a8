/// One rule mapping a touchpoint to a life-cycle phase. Every condition that is set must match;
/// conditions left nil match anything. Event names compare exactly (case-sensitive, as Segment's
/// spec names them).
public struct PhaseRule: Sendable, Equatable {
    public var phase: Phase
    public var type: EventType?
    public var event: String?
    public var channel: String?

    public init(phase: Phase, type: EventType? = nil, event: String? = nil, channel: String? = nil) {
        self.phase = phase
        self.type = type
        self.event = event
        self.channel = channel
    }

    func matches(type: EventType, event: String?, channel: String) -> Bool {
        if let wanted = self.type, wanted != type { return false }
        if let wanted = self.event, wanted != event { return false }
        if let wanted = self.channel, wanted != channel { return false }
        return true
    }
}
