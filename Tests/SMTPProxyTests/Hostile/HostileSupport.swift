import Foundation
import Testing

/// Postfix's `smtp-sink` as a fast upstream for load that a real Postfix's process limit cannot
/// take (a thousand sessions at once) and for gigabytes nobody needs stored: it answers every
/// command, counts messages, keeps nothing.
final class SinkUpstream: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let output: BackgroundReader

    init() throws {
        port = freeLoopbackPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: try ExternalProcess.locate("smtp-sink"))
        process.arguments = ["-u", "nobody", "-m", "4000", "127.0.0.1:\(port)", "4096"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        output = BackgroundReader(pipe.fileHandleForReading)
        try process.run()
        let process = process
        let port = port
        guard waitUntil("smtp-sink to listen on \(port)", { OperationsClient.connectError(port: port) == 0 || !process.isRunning }),
            process.isRunning
        else {
            stop()
            throw OperationsClient.Failure(description: "smtp-sink did not start: \(String(decoding: output.current, as: UTF8.self))")
        }
    }

    /// SIGKILL: smtp-sink, having dropped to `nobody`, does not end on SIGTERM.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = ExternalProcess.reap(process)
        }
    }
}

/// The built proxy in front of `upstreamPort`, its audit log in `scratch`, listening.
/// With `filters`, the shipped rule files.
func startHostileProxy(upstreamPort: Int, scratch: ScratchDirectory, filters: Bool = true, extra: [String] = []) throws -> (ProxyProcess, Int) {
    let proxy = try ProxyProcess(
        ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstreamPort)", "--log", scratch.file("audit.jsonl")]
            + (filters ? ["--filters", ProxyHarness.shippedFilters] : []) + extra)
    try proxy.waitUntilListening()
    guard let port = proxy.listeningPort() else {
        proxy.kill()
        throw OperationsClient.Failure(description: "no listening port in \(proxy.standardError)")
    }
    return (proxy, port)
}

/// One well-behaved session through the proxy: a message, then QUIT; true when every reply was
/// the expected one.
func wellBehavedSessionSucceeds(port: Int, token: String) -> Bool {
    guard let client = try? OperationsClient(port: port, timeout: 60),
        let replies = try? sendMessage(client, token: token)
    else { return false }
    return replies.map { String($0.prefix(3)) } == ["220", "250", "250", "250", "354", "250", "221"]
}

extension FakeUpstream.Connection {
    /// Plays a server that accepts every command and message (bodies read to their end of data),
    /// until QUIT; `afterEHLO` runs once the EHLO reply is sent (to stall there, say).
    func serveAcceptingEverything(afterEHLO: () -> Void = {}) throws {
        send("220 fake.test ESMTP\r\n")
        while let command = try readCommand() {
            switch command.verb {
            case "EHLO":
                send("250-fake.test\r\n250 PIPELINING\r\n")
                afterEHLO()
            case "DATA":
                send("354 go ahead\r\n")
                var digest = BodyDigest()
                _ = try readBody(digest: &digest)
                send("250 2.0.0 Ok\r\n")
            case "QUIT":
                send("221 2.0.0 Bye\r\n")
                return
            default: send("250 2.0.0 Ok\r\n")
            }
        }
    }
}
