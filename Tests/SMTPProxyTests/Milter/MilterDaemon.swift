import Foundation
import Testing

/// A real milter (or its helper daemon) from Debian, run in the foreground as a child process of
/// the tests with a configuration in a scratch directory, on free loopback ports. Started once per
/// test process (rspamd takes ~20 s to load) and stopped when the process exits, or by `stop()`.
final class MilterDaemon: @unchecked Sendable {
    let name: String
    let directory: ScratchDirectory
    private let process: Process
    private let output: BackgroundReader

    /// Starts `program arguments` and waits until every TCP port in `ports` listens and every path
    /// in `sockets` exists (a failure names the program and shows its output).
    init(_ name: String, program: String, arguments: [String], directory: ScratchDirectory, ports: [Int] = [], sockets: [String] = [], timeout: Double = 90) throws {
        self.name = name
        self.directory = directory
        process = Process()
        process.executableURL = URL(fileURLWithPath: try ExternalProcess.locate(program))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        output = BackgroundReader(pipe.fileHandleForReading)
        try process.run()
        let process = process
        let ready = waitUntil("\(name) to listen", timeout: timeout) {
            !process.isRunning
                || (ports.allSatisfy { HAProxyInstance.isListening(port: $0) }
                    && sockets.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        }
        guard ready, process.isRunning else {
            let text = log
            stop()
            Issue.record("\(name) did not start: \(text)")
            throw ExternalProcess.MissingTool(program: "\(program) (did not start)")
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// What it wrote to standard output and error so far.
    var log: String { String(decoding: output.current, as: UTF8.self) }

    /// SIGKILL, as a crash would: no goodbye on any connection.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        _ = ExternalProcess.reap(process)
    }

    /// SIGTERM, then SIGKILL after 10 s; reaps it; removes the scratch files.
    func stop() {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        directory.remove()
    }
}

/// The daemons shared by the milter suites, started on first use, stopped at exit.
enum MilterDaemons {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: [String: Any] = [:]

    static func shared<Value>(_ key: String, _ make: () throws -> Value, stop: @escaping (Value) -> Void) throws -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let existing = started[key] as? Value { return existing }
        let value = try make()
        if started.isEmpty { atexit { MilterDaemons.stopAll() } }
        started[key] = value
        stoppers.append { stop(value) }
        return value
    }

    nonisolated(unsafe) private static var stoppers: [() -> Void] = []

    private static func stopAll() {
        lock.lock()
        let all = stoppers
        stoppers = []
        started = [:]
        lock.unlock()
        for stop in all.reversed() { stop() }
    }
}
