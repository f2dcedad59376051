import Foundation
import Testing

/// A real HAProxy (`haproxy -db -f cfg`, in the foreground, as a child process) with a config
/// written to a scratch directory, listening on a free loopback port.
final class HAProxyInstance: @unchecked Sendable {
    let port: Int
    let directory: ScratchDirectory
    private let process: Process
    private let outputReader: BackgroundReader

    /// A TCP-mode frontend on a free port sending every connection to `127.0.0.1:backendPort`;
    /// `serverOptions` go on the `server` line (e.g. `send-proxy`, `send-proxy-v2`) and
    /// `backendOptions` in the backend (e.g. `option smtpchk`).
    convenience init(backendPort: Int, serverOptions: String, backendOptions: String = "") throws {
        let port = freeLoopbackPort()
        try self.init(port: port, config: """
            global
                maxconn 100
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend smtp
                bind 127.0.0.1:\(port)
                default_backend inspect
            backend inspect
                \(backendOptions)
                server inspect1 127.0.0.1:\(backendPort) \(serverOptions)
            """)
    }

    init(port: Int, config: String) throws {
        self.port = port
        directory = try ScratchDirectory()
        try directory.write(config + "\n", to: "haproxy.cfg")
        process = Process()
        process.executableURL = URL(fileURLWithPath: try ExternalProcess.locate("haproxy"))
        process.arguments = ["-db", "-f", directory.file("haproxy.cfg")]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        outputReader = BackgroundReader(pipe.fileHandleForReading)
        try process.run()
        let process = process
        // Listening is read from /proc/net/tcp: a probe connection would be relayed to the backend.
        let started = waitUntil("haproxy to listen on \(port)") { Self.isListening(port: port) || !process.isRunning }
        guard started, process.isRunning else {
            stop()
            Issue.record("haproxy did not start: \(output)")
            throw ExternalProcess.MissingTool(program: "haproxy (did not start)")
        }
    }

    /// HAProxy's own output so far (warnings, alerts).
    var output: String { String(decoding: outputReader.current, as: UTF8.self) }

    /// Whether a TCP socket listens on 127.0.0.1:`port` (or any IPv4 address), per the kernel.
    static func isListening(port: Int) -> Bool {
        guard let table = readProcFile("/proc/net/tcp") else { return false }
        let wanted = ":" + String(format: "%04X", port)
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasSuffix(wanted) && fields[3] == "0A"
        }
    }

    /// SIGTERM, then SIGKILL if it has not gone within 10 s; reaps it; removes the scratch files.
    func stop() {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        directory.remove()
    }
}
