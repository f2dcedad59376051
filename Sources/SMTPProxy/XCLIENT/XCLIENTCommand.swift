import NIOCore
import SMTPCore

/// The `XCLIENT` command the proxy sends for a client (Postfix's XCLIENT_README): only the
/// attributes the upstream's EHLO offers, values xtext-encoded (RFC 3461 §4).
///
///     XCLIENT ADDR=192.0.2.7 PORT=50123 NAME=[UNAVAILABLE] PROTO=ESMTP
///     XCLIENT ADDR=IPv6:2001:db8::7 PORT=50123 NAME=[UNAVAILABLE] PROTO=ESMTP
enum XCLIENTCommand {
    /// The attributes offered by an EHLO reply's `XCLIENT` line (`XCLIENT NAME ADDR PROTO HELO …`),
    /// upper case; nil when the reply has no such line.
    static func offeredAttributes(in lines: [String]) -> Set<String>? {
        for line in lines {
            let words = line.split(separator: " ")
            guard let keyword = words.first, keyword.uppercased() == "XCLIENT" else { continue }
            return Set(words.dropFirst().map { $0.uppercased() })
        }
        return nil
    }

    /// The command line (without CRLF) for a client at `address`, or nil when the upstream does
    /// not take `ADDR` (the one attribute XCLIENT is used for here).
    static func line(client address: SocketAddress, offered: Set<String>) -> String? {
        guard offered.contains("ADDR"), let ip = address.ipAddress else { return nil }
        var attributes: [String] = []
        let addr: String = if case .v6 = address { "IPv6:" + ip } else { ip }
        attributes.append("ADDR=" + xtext(addr))
        if offered.contains("PORT"), let port = address.port { attributes.append("PORT=\(port)") }
        if offered.contains("NAME") { attributes.append("NAME=" + xtext("[UNAVAILABLE]")) }
        if offered.contains("PROTO") { attributes.append("PROTO=ESMTP") }
        return "XCLIENT " + attributes.joined(separator: " ")
    }

    /// RFC 3461 xtext (`XText`).
    static func xtext(_ value: String) -> String { XText.encode(value) }
}
