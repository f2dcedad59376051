import IPAddressing
import NIOCore
import SMTPCore
import SMTPProxy
import Testing

/// The engine's endpoints made from a socket's address bytes (no text round trip): the text is
/// what NIO's own formatting of the same socket gives.
@Suite struct EndpointFromSocketTests {
    @Test(arguments: [("192.0.2.7", 25), ("2001:db8::1", 587), ("::ffff:10.1.2.3", 2525), ("::1", 10025)])
    func endpointsComeFromTheSocketsBytes(text: String, port: Int) throws {
        let socket = try SocketAddress(ipAddress: text, port: port)
        let endpoint = Endpoint(socket)
        #expect(endpoint.address == IPAddress(text) && endpoint.port == port)
        #expect(endpoint.host == socket.ipAddress)
    }

    @Test func aUnixSocketOrNoneIsUnknown() throws {
        #expect(Endpoint(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")).description == "unknown:0")
        #expect(Endpoint(nil).description == "unknown:0")
    }
}
