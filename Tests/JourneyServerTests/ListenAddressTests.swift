import Testing

@testable import JourneyServer

@Suite("ListenAddress")
struct ListenAddressTests {
    struct Good: Sendable, CustomTestStringConvertible {
        var text: String
        var host: String
        var port: Int
        var description: String
        var loopback: Bool
        var testDescription: String { text }
    }

    @Test("valid addresses parse", arguments: [
        Good(text: "127.0.0.1:8443", host: "127.0.0.1", port: 8443, description: "127.0.0.1:8443", loopback: true),
        Good(text: "[::1]:0", host: "::1", port: 0, description: "[::1]:0", loopback: true),
        Good(text: "localhost:1", host: "localhost", port: 1, description: "localhost:1", loopback: true),
        Good(text: "0.0.0.0:65535", host: "0.0.0.0", port: 65_535, description: "0.0.0.0:65535", loopback: false),
        Good(text: "[::]:7443", host: "::", port: 7443, description: "[::]:7443", loopback: false),
        Good(text: "127.10.20.30:9090", host: "127.10.20.30", port: 9090, description: "127.10.20.30:9090", loopback: true),
        Good(text: "10.0.0.7:80", host: "10.0.0.7", port: 80, description: "10.0.0.7:80", loopback: false),
        Good(text: "ingest.example.com:443", host: "ingest.example.com", port: 443, description: "ingest.example.com:443", loopback: false),
        Good(text: "[2001:db8::42]:8443", host: "2001:db8::42", port: 8443, description: "[2001:db8::42]:8443", loopback: false),
        Good(text: "[fe80::1%eth0]:80", host: "fe80::1%eth0", port: 80, description: "[fe80::1%eth0]:80", loopback: false),
        // A bracketed IPv4 host is accepted and printed without brackets.
        Good(text: "[127.0.0.1]:80", host: "127.0.0.1", port: 80, description: "127.0.0.1:80", loopback: true),
    ])
    func parses(good: Good) throws {
        let address = try #require(ListenAddress(good.text))
        #expect(address.host == good.host)
        #expect(address.port == good.port)
        #expect(address.description == good.description)
        #expect(address.isLoopback == good.loopback)
        // What it prints parses back to the same address.
        #expect(ListenAddress(address.description) == address)
    }

    @Test("malformed addresses are refused", arguments: [
        "", ":", ":8443", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
        "127.0.0.1:http", "127.0.0.1: 80", "127.0.0.1:80 ", " 127.0.0.1:80", "bad host:80", "127.0.0.1:99999999999999999999",
        "::1:8443", "::1", "[::1]", "[::1]8443", "[::1]:", "[]:80", "[::1:80", "::1]:80", "127.0.0.1]:80", "[::1]:80]",
        "localhost:1:2", "http://localhost:80", "localhost:0x50", "localhost:８０",
    ])
    func refuses(text: String) {
        #expect(ListenAddress(text) == nil, "\"\(text)\" should not parse")
    }

    @Test("only real loopback hosts count as loopback")
    func loopback() {
        #expect(ListenAddress(host: "127.0.0.1", port: 1).isLoopback)
        #expect(ListenAddress(host: "127.255.255.254", port: 1).isLoopback)
        #expect(ListenAddress(host: "::1", port: 1).isLoopback)
        #expect(ListenAddress(host: "localhost", port: 1).isLoopback)
        #expect(!ListenAddress(host: "0.0.0.0", port: 1).isLoopback)
        #expect(!ListenAddress(host: "::", port: 1).isLoopback)
        #expect(!ListenAddress(host: "128.0.0.1", port: 1).isLoopback)
        // Host names that merely start with "127." resolve wherever their owner wants.
        #expect(!ListenAddress(host: "127.example.com", port: 1).isLoopback)
        #expect(!ListenAddress(host: "127.0.0.1.nip.io", port: 1).isLoopback)
        #expect(!ListenAddress(host: "127.0.0.256", port: 1).isLoopback)
        #expect(!ListenAddress(host: "127.0.0.", port: 1).isLoopback)
    }

    @Test("an explicit host and port print like the parsed form")
    func memberwise() {
        #expect(ListenAddress(host: "::1", port: 9090).description == "[::1]:9090")
        #expect(ListenAddress(host: "127.0.0.1", port: 9090).description == "127.0.0.1:9090")
        #expect(ListenAddress(host: "::1", port: 9090) == ListenAddress("[::1]:9090"))
    }
}
