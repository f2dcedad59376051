import Foundation
import Testing

/// `proxy --xclient`: documented, and exclusive with `--proxy-protocol-out` at start (exit 2,
/// one line naming both).
@Suite struct XCLIENTCommandLineTests {
    @Test func helpDescribesTheFlag() async throws {
        let result = try await onThread { try ProxyProcess.runToExit(["proxy", "--help"]) }
        #expect(result.status == 0)
        #expect(result.output.contains("--xclient"), "\(result.output)")
    }

    @Test(arguments: ["v1", "v2"])
    func xclientAndProxyProtocolOutExcludeEachOther(_ version: String) async throws {
        let arguments = ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--xclient", "--proxy-protocol-out", version]
        let result = try await onThread { try ProxyProcess.runToExit(arguments) }
        #expect(result.status == 2, "stderr: \(result.error)")
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("--xclient and --proxy-protocol-out exclude each other"), "stderr: \(result.error)")
    }
}
