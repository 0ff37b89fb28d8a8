/// The Segment call an event was sent as.
public enum EventType: String, CaseIterable, Sendable {
    case track, identify, page, screen, group, alias
}
