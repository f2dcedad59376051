import NIOCore
import Testing

@testable import SMTPProxy

/// IPv4 clients and destinations of an IPv6 (`[::]`) listener are handled as IPv4.
@Suite struct InterceptionAddressTests {
    @Test func mappedIPv4BecomesIPv4() throws {
        let mapped = try SocketAddress(ipAddress: "::ffff:10.77.2.2", port: 25)
        let plain = mapped.unmapped
        #expect(plain.protocol == .inet)
        #expect(plain.ipAddress == "10.77.2.2" && plain.port == 25)
    }

    @Test func otherAddressesStayAsTheyAre() throws {
        for (host, port) in [("fd77:2::2", 25), ("10.77.2.2", 587), ("::1", 0)] {
            let address = try SocketAddress(ipAddress: host, port: port)
            #expect(address.unmapped == address)
        }
    }
}
