import Foundation
import Testing

/// Runs real programs (postfix, swaks, python3, openssl) for the integration tests. A missing
/// program is a test failure that names the Debian package, never a silent skip.
enum ExternalProcess {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    static let packages = [
        "postfix": "postfix", "swaks": "swaks", "python3": "python3", "openssl": "openssl",
        "smtp-source": "postfix", "tshark": "tshark", "systemd-analyze": "systemd", "curl": "curl", "haproxy": "haproxy",
        "node": "nodejs", "ip": "iproute2", "ss": "iproute2", "rspamd": "rspamd", "clamd": "clamav-daemon", "clamav-milter": "clamav-milter", "opendkim": "opendkim", "opendkim-genkey": "opendkim-tools", "md5sum": "coreutils", "iptables": "iptables", "ip6tables": "iptables", "nft": "nftables", "setpriv": "util-linux", "postgrey": "postgrey", "postfwd1": "postfwd",
    ]

    /// The absolute path of `program`, or a recorded test failure.
    static func locate(_ program: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
            let path = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        let package = packages[program] ?? program
        Issue.record("\(program) is not installed: apt-get install -y \(package)", sourceLocation: sourceLocation)
        throw MissingTool(program: program)
    }

    struct MissingTool: Error { var program: String }

    /// Waits for `process` to end and returns its exit status (or the signal that ended it).
    /// Foundation's own reaping has missed a SIGCHLD here and left a zombie that
    /// `waitUntilExit` waited on forever (an `ip` child under load), so this reaps it itself,
    /// unless Foundation got there first.
    static func reap(_ process: Process) -> Int32 {
        let pid = process.processIdentifier
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                let signal = status & 0x7F
                return signal == 0 ? (status >> 8) & 0xFF : signal
            }
            if reaped == -1 || !process.isRunning {
                // Foundation reaped it: its status is (or is about to be) there.
                while process.isRunning { usleep(1_000) }
                return process.terminationStatus
            }
            usleep(1_000)
        }
    }

    /// Runs to completion; stdin from `input`.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try locate(program))
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        let writer = Thread {
            if let input { stdin.fileHandleForWriting.write(input) }
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errorReader = BackgroundReader(stderr.fileHandleForReading)
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let status = reap(process)
        return Result(
            status: status,
            output: String(decoding: output, as: UTF8.self),
            error: String(decoding: errorReader.finish(), as: UTF8.self)
        )
    }
}

/// Drains a pipe on its own thread so a chatty child never blocks on a full pipe; what was read
/// so far is available at any time (`current`).
final class BackgroundReader: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data += chunk
                lock.unlock()
            }
            done.signal()
        }.start()
    }

    var current: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }

    func finish() -> Data {
        done.wait()
        return current
    }
}

/// Waits for a condition driven by another process (a delivery, a log line), with a deadline:
/// polling a condition, not sleeping for a guessed time.
func waitUntil(
    _ what: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    Issue.record("timed out after \(timeout) s waiting for \(what)", sourceLocation: sourceLocation)
    return false
}
