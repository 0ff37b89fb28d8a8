import Foundation
import JourneyServer
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A TLS client of the daemon's stream listener for the tests: trusts the test CA, presents a
/// client certificate when given one, writes raw bytes, and collects the lines the daemon
/// writes back. Used by one test task at a time.
final class StreamClient {
    let channel: any Channel
    private let inbox: LineInbox

    private init(channel: any Channel, inbox: LineInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// - Parameter address: `host:port`; the daemon's stream listener unless given.
    /// - Parameter maximumVersion: offer no TLS version above this one.
    static func connect(
        to daemon: DaemonProcess, address: String? = nil, certificate: PEMCredential? = nil, maximumVersion: TLSVersion? = nil
    ) async throws -> StreamClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let maximumVersion {
            tls.minimumTLSVersion = .tlsv1
            tls.maximumTLSVersion = maximumVersion
        }
        tls.trustRoots = .file(daemon.certificates.caCertificate)
        if let certificate {
            tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(certificate.certificatePEM.utf8), format: .pem))]
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(certificate.privateKeyPEM.utf8), format: .pem))
        }
        let context = try NIOSSLContext(configuration: tls)
        let inbox = LineInbox()
        let parts = (address ?? daemon.streamAddress).split(separator: ":")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(LineCollector(inbox: inbox))
                }
            }
            .connect(host: String(parts[0]), port: Int(parts[1])!).get()
        return StreamClient(channel: channel, inbox: inbox)
    }

    /// The certificate the daemon presented (waits for the handshake).
    func serverCertificate() async throws -> NIOSSLCertificate? {
        try await waitUntil(timeout: .seconds(10)) { inbox.state.withLock { $0.handshakeDone || $0.closed } }
        return try await channel.nioSSL_peerCertificate().get()
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    func send(lines: [String]) async throws {
        try await send(lines.map { $0 + "\n" }.joined())
    }

    /// The next line from the daemon; nil once the connection is closed or after `timeout`.
    func nextLine(timeout: Duration = .seconds(30)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (line, closed) = inbox.state.withLock { state in
                (state.lines.isEmpty ? nil : state.lines.removeFirst(), state.closed)
            }
            if let line { return line }
            if closed { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Every line up to and including `{"ack":count}`; fails if the connection ends first.
    func linesUntilAck(_ count: Int, timeout: Duration = .seconds(60)) async throws -> [String] {
        var lines: [String] = []
        let deadline = ContinuousClock.now + timeout
        while let line = await nextLine(timeout: deadline - ContinuousClock.now) {
            lines.append(line)
            if line == "{\"ack\":\(count)}" { return lines }
        }
        throw StreamClientError.ended(waitingFor: count, received: lines)
    }

    /// The highest `{"ack":N}` received so far (draining what has arrived).
    func latestAck() async -> Int {
        var latest = 0
        while let line = await nextLine(timeout: .milliseconds(50)) {
            if let ack = Self.ack(in: line) { latest = max(latest, ack) }
        }
        return latest
    }

    /// The highest `{"ack":N}` among the lines already received, without waiting or consuming them.
    var latestAckReceived: Int {
        inbox.state.withLock { state in state.lines.compactMap(Self.ack(in:)).max() ?? 0 }
    }

    static func ack(in line: String) -> Int? {
        guard line.hasPrefix("{\"ack\":"), line.hasSuffix("}") else { return nil }
        return Int(line.dropFirst(7).dropLast())
    }

    var isClosed: Bool { inbox.state.withLock { $0.closed } }

    /// Waits until the daemon has closed the connection; false after `timeout`.
    func waitForClose(timeout: Duration) async -> Bool {
        (try? await waitUntil(timeout: timeout) { isClosed }) != nil
    }

    func close() async {
        try? await channel.close()
    }

    private func waitUntil(timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw StreamClientError.timedOut }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

enum StreamClientError: Error, CustomStringConvertible {
    case ended(waitingFor: Int, received: [String])
    case timedOut

    var description: String {
        switch self {
        case .ended(let count, let received): return "connection ended before {\"ack\":\(count)}; received \(received)"
        case .timedOut: return "timed out"
        }
    }
}

/// What the daemon wrote back, shared between the event loop and the test task.
final class LineInbox: Sendable {
    struct State {
        var lines: [String] = []
        var partial: [UInt8] = []
        var closed = false
        var handshakeDone = false
    }

    let state = Mutex(State())
}

/// Splits the daemon's replies into lines for a `LineInbox`. Runs on the channel's event loop.
final class LineCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let inbox: LineInbox

    init(inbox: LineInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(buffer: unwrapInboundIn(data))
        inbox.state.withLock { state in
            for byte in bytes {
                if byte == 0x0A {
                    state.lines.append(String(decoding: state.partial, as: UTF8.self))
                    state.partial.removeAll()
                } else {
                    state.partial.append(byte)
                }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            inbox.state.withLock { $0.handshakeDone = true }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.state.withLock { $0.closed = true }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
