import ArgumentParser
import SMTPProxy

/// `--upstream HOST:PORT|original-dst`, `--transparent` and `--upstream-source`, checked together.
extension ProxyCommand {
    /// The value of `--upstream` that means "each connection's original destination".
    static let originalDestination = "original-dst"

    struct UpstreamChoice {
        var upstream: HostAndPort
        var interception: InterceptionMode
        var source: UpstreamSource
    }

    /// The upstream flags as the configuration takes them; a usage error (exit 2) when they do
    /// not fit together.
    func upstreamChoice() throws -> UpstreamChoice {
        guard let source = UpstreamSource(rawValue: upstreamSource) else {
            throw ValidationError("--upstream-source: expected proxy or client, got '\(upstreamSource)'")
        }
        if source == .client && !transparent {
            throw ValidationError("--upstream-source client needs --transparent (TPROXY interception with policy routing)")
        }
        // Never connected to: with interception each session's upstream comes from its connection.
        let unused = HostAndPort(host: Self.originalDestination, port: 0)
        switch upstream {
        case nil where transparent, .some(Self.originalDestination):
            return UpstreamChoice(upstream: unused, interception: transparent ? .transparent : .originalDestination, source: source)
        case nil:
            throw ValidationError("--upstream: required: host:port, or original-dst for intercepted connections (or --transparent)")
        case let text?:
            guard let fixed = HostAndPort(parsing: text) else {
                throw ValidationError("--upstream: expected host:port or original-dst, got '\(text)'")
            }
            if transparent {
                throw ValidationError(
                    "--transparent forwards each connection to its original destination; it cannot be combined with --upstream \(text)")
            }
            return UpstreamChoice(upstream: fixed, interception: .off, source: source)
        }
    }
}
