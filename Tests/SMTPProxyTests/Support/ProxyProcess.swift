import Foundation
import Testing

/// The built `smtp-inspect` binary run as an operator runs it: arguments, signals, exit status,
/// standard error, and the process's memory as the kernel sees it (/proc/PID/status).
final class ProxyProcess: @unchecked Sendable {
    let process: Process
    let arguments: [String]
    private let errorReader: BackgroundReader
    private let outputReader: BackgroundReader

    /// The `smtp-inspect` binary of the build that built these tests: it sits next to the test
    /// bundle (`.build/debug/smtp-inspect` beside `.build/debug/smtp-inspectPackageTests.xctest`).
    static func binaryPath(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // On Darwin the test binary is inside `X.xctest/Contents/MacOS`.
            while directory.path != "/" && directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
            candidates.append(directory.appendingPathComponent("smtp-inspect").path)
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("smtp-inspect").path)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("smtp-inspect").path)
        candidates.append(ProxyHarness.repositoryRoot + "/.build/debug/smtp-inspect")
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        Issue.record("the smtp-inspect binary was not found (build it: swift build --build-tests); looked at \(candidates)",
            sourceLocation: sourceLocation)
        throw ExternalProcess.MissingTool(program: "smtp-inspect")
    }

    /// Starts `smtp-inspect` with `arguments` (e.g. `["proxy", "--listen", …]`), inside the
    /// network namespace `namespace` when given (`ip netns exec` execs it: same pid), or through
    /// `launcher` (a program and its arguments that exec the binary, given as their last
    /// arguments: `["unshare", "-m", "sh", "-c", "mount … && exec \"$0\" \"$@\""]`; same pid).
    init(_ arguments: [String], namespace: String? = nil, launcher: [String] = []) throws {
        self.arguments = arguments
        process = Process()
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: try ExternalProcess.locate(program))
            process.arguments = Array(launcher.dropFirst()) + [try Self.binaryPath()] + arguments
        } else if let namespace {
            process.executableURL = URL(fileURLWithPath: try ExternalProcess.locate("ip"))
            process.arguments = ["netns", "exec", namespace, try Self.binaryPath()] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: try Self.binaryPath())
            process.arguments = arguments
        }
        let errorPipe = Pipe()
        let outputPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = outputPipe
        process.standardInput = FileHandle.nullDevice
        errorReader = BackgroundReader(errorPipe.fileHandleForReading)
        outputReader = BackgroundReader(outputPipe.fileHandleForReading)
        try process.run()
    }

    /// `smtp-inspect proxy` on a free loopback port in front of the server on `upstreamPort`,
    /// listening; `extra` are further options. The caller kills it (`defer { proxy.kill() }`).
    static func listening(upstream upstreamPort: Int, log: String = "/dev/null", _ extra: [String] = []) throws -> (proxy: ProxyProcess, port: Int) {
        let proxy = try ProxyProcess(["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstreamPort)", "--log", log] + extra)
        do {
            try proxy.waitUntilListening()
            return (proxy, try #require(proxy.listeningPort()))
        } catch {
            proxy.kill()
            throw error
        }
    }

    /// Runs `smtp-inspect` to completion (for exit-status tests); kills it after `timeout`.
    static func runToExit(_ arguments: [String], timeout: Double = 30) throws -> (status: Int32?, error: String, output: String) {
        let child = try ProxyProcess(arguments)
        let status = child.waitForExit(timeout: timeout)
        if status == nil { child.kill() }
        // Both pipes to their end: the process may have exited before the readers drained them.
        let error = String(decoding: child.errorReader.finish(), as: UTF8.self)
        let output = String(decoding: child.outputReader.finish(), as: UTF8.self)
        return (status, error, output)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Standard error so far (swift-log diagnostics, error messages).
    var standardError: String { String(decoding: errorReader.current, as: UTF8.self) }
    var standardOutput: String { String(decoding: outputReader.current, as: UTF8.self) }

    /// Waits until standard error contains `text` (or the process exits).
    @discardableResult
    func waitForStandardError(containing text: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var found = false
        _ = waitUntil("smtp-inspect to write '\(text)' on stderr (has: \(standardError.suffix(2000)))", timeout: timeout,
            sourceLocation: sourceLocation) {
            found = standardError.contains(text)
            return found || !process.isRunning
        }
        if !found {
            found = standardError.contains(text)
            if !found {
                Issue.record("smtp-inspect exited before writing '\(text)': \(standardError)", sourceLocation: sourceLocation)
            }
        }
        return found
    }

    /// Occurrences of `text` on standard error so far.
    func standardErrorCount(of text: String) -> Int {
        standardError.components(separatedBy: text).count - 1
    }

    /// Waits for the proxy's "listening" notice: the listener is bound, and (unlike polling with
    /// connects) no session was opened to find out.
    func waitUntilListening(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard waitForStandardError(containing: "listening", sourceLocation: sourceLocation) else {
            kill()
            throw OperationsClient.Failure(description: "smtp-inspect did not start listening: \(standardError)")
        }
    }

    func send(signal: Int32) {
        Glibc.kill(pid, signal)
    }

    /// The exit status, or nil when the process is still running after `timeout` (a status of
    /// 128+N means it was killed by signal N).
    func waitForExit(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Ends the process for good (SIGKILL) and reaps it; for cleanup.
    func kill() {
        if process.isRunning {
            Glibc.kill(pid, SIGKILL)
            _ = ExternalProcess.reap(process)
        }
    }

    /// Resident set size right now, in KiB (VmRSS), or nil once the process has gone.
    func residentKiB() -> Int? { Self.status(pid: pid, field: "VmRSS") }

    /// Peak resident set size so far, in KiB (VmHWM).
    func peakResidentKiB() -> Int? { Self.status(pid: pid, field: "VmHWM") }

    static func status(pid: Int32, field: String) -> Int? {
        guard let text = readProcFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}

/// The whole of a /proc file. They report a size of 0 and hand out their text in pieces, one per
/// read: read to the end, not by the size.
func readProcFile(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    var data = Data()
    while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        data += chunk
    }
    return String(decoding: data, as: UTF8.self)
}

/// A scratch directory for one test (rule files, audit logs), removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "smtp-inspect-ops-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Audit events of a JSON-lines log file, parsed.
func auditEvents(at path: String) -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
}
