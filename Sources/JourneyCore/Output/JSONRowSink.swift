/// A consumer of JSON rows that takes each row where it was written: a row is appended to the
/// sink's own `rowBuffer`, then `endRow()` is called, so no row is copied between its encoding
/// and its consumer (the snapshot's gzip writer compresses straight out of the buffer).
public protocol JSONRowSink {
    associatedtype Failure: Error
    /// Where the next row (one JSON object) is written, after what the sink has not consumed yet.
    var rowBuffer: JSONWriter { get set }
    /// Takes the row just written into `rowBuffer`.
    mutating func endRow() throws(Failure)
}

/// Collects rows as separate byte arrays, for small outputs and tests. A value type.
public struct JSONRowList: JSONRowSink {
    public var rowBuffer = JSONWriter()
    public private(set) var rows: [[UInt8]] = []

    public init() {}

    public mutating func endRow() {
        rows.append(rowBuffer.bytes)
        rowBuffer.reset()
    }
}
