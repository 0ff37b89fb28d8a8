/// The configured source an event arrived through: its name and the channel it stands for.
public struct SourceInfo: Sendable, Equatable, Hashable {
    public var name: String
    public var channel: String

    public init(name: String, channel: String) {
        self.name = name
        self.channel = channel
    }
}
