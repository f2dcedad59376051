import IPAddressing
import NIOCore
import Testing

@testable import SMTPProxy

/// Which original destinations are the proxy's own listener (a connection made straight to it).
@Suite struct InterceptionLoopGuardTests {
    private func address(_ host: String, _ port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: host, port: port)
    }

    @Test func theListenerItselfIsALoop() throws {
        let listener = try address("10.0.0.1", 10025)
        #expect(LoopGuard.isOwnListener(try address("10.0.0.1", 10025), listener: listener))
        #expect(!LoopGuard.isOwnListener(try address("10.0.0.1", 25), listener: listener))
        #expect(!LoopGuard.isOwnListener(try address("10.0.0.2", 10025), listener: listener))
        #expect(!LoopGuard.isOwnListener(try address("10.0.0.1", 10025), listener: nil))
    }

    @Test func aWildcardListenerLoopsForTheHostsOwnAddressesOnly() throws {
        let any4 = try address("0.0.0.0", 25)
        let any6 = try address("::", 25)
        let local = { [IPAddress("192.0.2.7")!, IPAddress("2001:db8::7")!] }
        #expect(LoopGuard.isOwnListener(try address("192.0.2.7", 25), listener: any4, localAddresses: local))
        #expect(LoopGuard.isOwnListener(try address("127.0.0.1", 25), listener: any4, localAddresses: local))
        #expect(LoopGuard.isOwnListener(try address("::ffff:192.0.2.7", 25), listener: any6, localAddresses: local))
        #expect(LoopGuard.isOwnListener(try address("2001:db8::7", 25), listener: any6, localAddresses: local))
        #expect(LoopGuard.isOwnListener(try address("::1", 25), listener: any6, localAddresses: local))
        // TPROXY on the same port: the destination is another host's address.
        #expect(!LoopGuard.isOwnListener(try address("198.51.100.9", 25), listener: any4, localAddresses: local))
        #expect(!LoopGuard.isOwnListener(try address("2001:db8::9", 25), listener: any6, localAddresses: local))
    }
}
