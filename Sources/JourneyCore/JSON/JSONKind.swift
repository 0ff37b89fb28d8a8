/// The JSON type of a `JSONValue`.
public enum JSONKind: Sendable, Equatable {
    case null, bool, number, string, array, object
}
