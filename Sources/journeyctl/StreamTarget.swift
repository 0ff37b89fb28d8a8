import NIOCore

/// The `--stream HOST:PORT` address of a stream listener.
struct StreamTarget: Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    /// Parses `host:port`, `1.2.3.4:port` or `[v6]:port`.
    init(parsing text: String) throws(StreamLoadError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .badTarget(text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .badTarget(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw .badTarget(text) }
        }
        guard !host.isEmpty, let port = Int(portText), (1...65_535).contains(port) else { throw .badTarget(text) }
        self.host = String(host)
        self.port = port
    }

    /// The name sent for SNI and checked against the certificate; nil for an IP address (the
    /// certificate's IP SANs are then checked against the connected address).
    var serverHostname: String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
