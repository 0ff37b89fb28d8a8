/// The Segment call an event was sent as.
public enum EventType: String, CaseIterable, Sendable {
    case track, identify, page, screen, group, alias
}

extension EventType {
    /// The type whose name is `bytes` (UTF-8), if any: read from an event's JSON without making a
    /// `String` and switching over it (the names differ in their first letter).
    init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        let candidate: EventType
        switch bytes.first {
        case UInt8(ascii: "t"): candidate = .track
        case UInt8(ascii: "i"): candidate = .identify
        case UInt8(ascii: "p"): candidate = .page
        case UInt8(ascii: "s"): candidate = .screen
        case UInt8(ascii: "g"): candidate = .group
        case UInt8(ascii: "a"): candidate = .alias
        default: return nil
        }
        guard withUTF8Bytes(of: candidate.rawValue, { bytesEqual($0, UnsafeRawBufferPointer(bytes)) }) else { return nil }
        self = candidate
    }
}
