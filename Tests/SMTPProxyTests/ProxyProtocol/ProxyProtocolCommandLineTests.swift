import Foundation
import Testing

/// The PROXY protocol flags of `smtp-inspect proxy`: documented in --help, validated at start
/// (exit 2 with the reason), and the shipped HAProxy config stays valid for HAProxy itself.
@Suite struct ProxyProtocolCommandLineTests {
    static let base = ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25"]

    @Test func helpDescribesTheFlags() async throws {
        let result = try await onThread { try ProxyProcess.runToExit(["proxy", "--help"]) }
        #expect(result.status == 0)
        for flag in ["--proxy-protocol-in", "--proxy-protocol-from <cidr>", "--proxy-protocol-out <v1|v2>"] {
            #expect(result.output.contains(flag), "\(result.output)")
        }
    }

    /// An invalid block is a configuration error: exactly one line naming the flag and the value.
    @Test(arguments: ["10.0.0.1/8", "10.0.0.0/33", "haproxy.example"])
    func badCIDRExitsTwoWithOneLine(_ block: String) async throws {
        let result = try await onThread { try ProxyProcess.runToExit(Self.base + ["--proxy-protocol-in", "--proxy-protocol-from", block]) }
        #expect(result.status == 2, "stderr: \(result.error)")
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("--proxy-protocol-from") && lines[0].contains("'\(block)'"), "stderr: \(result.error)")
    }

    @Test(arguments: [
        (["--proxy-protocol-from", "127.0.0.1/32"], "--proxy-protocol-from needs --proxy-protocol-in"),
        (["--proxy-protocol-out", "v3"], "--proxy-protocol-out: expected v1 or v2"),
    ])
    func badUsageExitsTwo(_ arguments: [String], _ reason: String) async throws {
        let result = try await onThread { try ProxyProcess.runToExit(Self.base + arguments) }
        #expect(result.status == 2, "stderr: \(result.error)")
        #expect(result.error.split(separator: "\n").first?.contains(reason) == true, "stderr: \(result.error)")
    }

    /// `haproxy -c` accepts deploy/haproxy/haproxy.cfg, which still sends PROXY v2 to every
    /// instance and checks them over SMTP with a PROXY header (without one, smtp-inspect would
    /// refuse every check).
    @Test func shippedHAProxyConfigIsValid() async throws {
        let path = ProxyHarness.repositoryRoot + "/deploy/haproxy/haproxy.cfg"
        let result = try await onThread { try ExternalProcess.run("haproxy", ["-c", "-f", path]) }
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect((result.output + result.error).contains("Configuration file is valid"))
        let config = try String(contentsOfFile: path, encoding: .utf8)
        let directives = config.split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1).first.map(String.init) ?? "" }
        let defaultServer = directives.first { $0.contains("default-server") } ?? ""
        #expect(["send-proxy-v2", "check", "check-send-proxy"].allSatisfy { defaultServer.split(separator: " ").contains(Substring($0)) })
        #expect(directives.contains { $0.contains("balance leastconn") } && directives.contains { $0.contains("option smtpchk") })
    }
}
