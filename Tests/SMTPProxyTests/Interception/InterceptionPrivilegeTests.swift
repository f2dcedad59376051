import Testing

/// `--transparent` without the capability `IP_TRANSPARENT` needs: one line, exit 2, nothing
/// listens. The binary runs under `setpriv` with CAP_NET_ADMIN and CAP_NET_RAW (either allows
/// IP_TRANSPARENT) removed from its bounding set, so even root does not get them back at exec.
@Suite struct InterceptionPrivilegeTests {
    @Test func transparentWithoutCapabilityExitsTwo() throws {
        let binary = try ProxyProcess.binaryPath()
        let result = try ExternalProcess.run("setpriv", [
            "--bounding-set", "-net_admin,-net_raw", "--inh-caps", "-net_admin,-net_raw",
            binary, "proxy", "--listen", "127.0.0.1:0", "--transparent",
        ])
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains("IP_TRANSPARENT") && result.error.contains("needs CAP_NET_ADMIN"), "\(result.error)")
        #expect(result.error.split(separator: "\n").count == 1, "one line: \(result.error)")
        #expect(!result.error.contains("listening"))
    }
}
