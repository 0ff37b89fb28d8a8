/// The JSON texts at several ranges of one buffer — the lines of a stream chunk — parsed onto one
/// shared tape. Each line is validated exactly as `JSONDocument` validates a whole document,
/// and fails or succeeds on its own; the lines that parse share one storage, so a chunk of
/// hundreds of events costs one buffer and one tape rather than one of each per event.
///
/// Immutable after init, hence `Sendable`; every value taken from it keeps the whole buffer and
/// tape alive, so hold those values only while the chunk is being processed.
public struct JSONLines: Sendable {
    private enum Outcome: Sendable {
        case parsed(root: Int)
        case failed(JSONParseError)
    }

    private let storage: JSONStorage
    private let outcomes: [Outcome]

    /// Parses each of `lines` (ranges of `bytes`, each within it) as one JSON text.
    public init(bytes: [UInt8], lines: [Range<Int>], maxDepth: Int = JSONDocument.defaultMaxDepth) {
        let depthLimit = max(0, maxDepth)
        let count = bytes.count
        let (tape, tapeCount, outcomes) = bytes.withUnsafeBufferPointer { buffer in
            // A parser needs a base address; an empty buffer has none (and only empty lines).
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { spare in
                var parser = JSONParser(base: buffer.baseAddress ?? UnsafePointer(spare.baseAddress!), count: count)
                let outcomes = lines.map { line -> Outcome in
                    precondition(line.lowerBound >= 0 && line.upperBound <= count, "a line lies outside the buffer")
                    guard count < Int(UInt32.max) else { return .failed(JSONParseError(.documentTooLarge, at: 0)) }
                    do throws(JSONParseError) {
                        return .parsed(root: try parser.parse(line, maxDepth: depthLimit))
                    } catch {
                        return .failed(error)
                    }
                }
                return (parser.tape, parser.tapeCount, outcomes)
            }
        }
        storage = JSONStorage(bytes: bytes, tape: tape, tapeCount: tapeCount)
        self.outcomes = outcomes
    }

    /// How many lines were given.
    public var count: Int { outcomes.count }

    /// The value of the line at `index` (in the order given), or why it is not valid JSON (the
    /// offset counted from the line's start).
    public subscript(index: Int) -> Result<JSONValue, JSONParseError> {
        switch outcomes[index] {
        case .parsed(let root): .success(JSONValue(storage: storage, index: root))
        case .failed(let error): .failure(error)
        }
    }
}
