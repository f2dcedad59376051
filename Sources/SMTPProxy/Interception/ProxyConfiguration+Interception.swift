extension ProxyConfiguration {
    /// The upstream as the operator wrote it: `HOST:PORT`, or `original-dst` when intercepting.
    public var upstreamDescription: String {
        switch interception {
        case .off: "\(upstream)"
        case .originalDestination: "original-dst"
        case .transparent: "original-dst (transparent)"
        }
    }
}
