import SMTPCore

/// The proxy's timeouts are the engine's (`SessionTimeouts`): the engine arms the timer
/// (`SessionAction.setTimer`), the proxy only keeps it.
public typealias ProxyTimeouts = SessionTimeouts
