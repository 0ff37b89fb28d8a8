/// Why `journeyctl load` could not finish: each case says what went wrong and what to check.
enum StreamLoadError: Error, CustomStringConvertible, Sendable {
    case badTarget(String)
    case corpusUnreadable(path: String, reason: String)
    case corpusEmpty(path: String)
    case corpusTooSmall(path: String, lines: Int, connections: Int)
    case tooFewRuns(path: String, lines: Int, runLines: Int, connections: Int)
    case tlsMaterial(path: String, reason: String)
    case connectFailed(connection: Int, target: String, reason: String)
    case handshakeFailed(connection: Int, target: String, reason: String)
    case notSettled(connection: Int, settled: Int, of: Int, reason: String)
    case protocolViolation(connection: Int, reason: String)

    var description: String {
        switch self {
        case .badTarget(let text):
            return "--stream \"\(text)\" is not HOST:PORT (an IPv6 address goes in brackets: [::1]:7443)"
        case .corpusUnreadable(let path, let reason):
            return "cannot read the corpus \(path): \(reason)"
        case .corpusEmpty(let path):
            return "the corpus \(path) holds no event lines; write one with journeybench --write-corpus FILE --events N"
        case .corpusTooSmall(let path, let lines, let connections):
            return "the corpus \(path) has \(TextFormat.number(lines)) lines, fewer than --connections \(connections); use fewer connections or a larger corpus"
        case .tooFewRuns(let path, let lines, let runLines, let connections):
            let runs = (lines + runLines - 1) / runLines
            return "the corpus \(path) has \(TextFormat.number(lines)) lines: \(runs) runs of --interleave \(runLines) for --connections \(connections); use shorter runs or fewer connections"
        case .tlsMaterial(let path, let reason):
            return "cannot use the TLS file \(path): \(reason)"
        case .connectFailed(let connection, let target, let reason):
            return "connection \(connection): cannot connect to \(target): \(reason); is the stream listener running there?"
        case .handshakeFailed(let connection, let target, let reason):
            return "connection \(connection): TLS handshake with \(target) failed: \(reason); check --ca (it must sign the server's certificate) and --cert/--key (the server's client_ca must sign them)"
        case .notSettled(let connection, let settled, let total, let reason):
            return "connection \(connection): only \(TextFormat.number(settled)) of \(TextFormat.number(total)) lines were settled: \(reason)"
        case .protocolViolation(let connection, let reason):
            return "connection \(connection): the server broke the stream protocol: \(reason)"
        }
    }
}
