import Foundation
import Testing

/// The real policy servers of Debian, each started by a test on a free loopback port and
/// stopped by its own pid.
enum PolicyServices {
    /// postgrey (greylisting) in the foreground, with its database in a fresh directory.
    final class Postgrey: @unchecked Sendable {
        let port: Int
        let directory: String
        private let process: Process
        private let output: BackgroundReader

        init(delay: Int) throws {
            let program = try ExternalProcess.locate("postgrey")
            port = freeLoopbackPort()
            directory = "/tmp/pg" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = [
                "--inet=127.0.0.1:\(port)", "--delay=\(delay)", "--dbdir=\(directory)", "--user=root", "--group=root",
                "--pidfile=\(directory)/postgrey.pid",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            output = BackgroundReader(pipe.fileHandleForReading)
            try process.run()
            let process = self.process
            let port = self.port
            guard waitUntil("postgrey to listen on \(port)", { (try? RawSMTPClient(port: port)) != nil || !process.isRunning }),
                process.isRunning
            else {
                stop()
                throw ExternalProcess.MissingTool(program: "postgrey (did not start): \(log())")
            }
        }

        var service: String { "inet:127.0.0.1:\(port)" }

        func log() -> String { String(decoding: output.current, as: UTF8.self) }

        func stop() {
            // SIGKILL: a child of the test process inherits its blocked signals, and postgrey
            // then never sees SIGTERM; its database is a throwaway.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            _ = ExternalProcess.reap(process)
            _ = output.finish()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// postfwd (v1: its rate limits live in the one daemon process, shared by every client that
    /// asks it), daemonized; stopped through the process group of its pid file.
    final class Postfwd: @unchecked Sendable {
        let port: Int
        let directory: String

        init(rules: String) throws {
            let program = try ExternalProcess.locate("postfwd1")
            port = freeLoopbackPort()
            directory = "/tmp/pw" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // postfwd drops to nobody before it writes its pid file.
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
            try rules.write(toFile: "\(directory)/postfwd.cf", atomically: true, encoding: .utf8)
            _ = program
            let result = try ExternalProcess.run("postfwd1", [
                "--file", "\(directory)/postfwd.cf", "--daemon", "--interface", "127.0.0.1", "--port", "\(port)",
                "--pidfile", "\(directory)/postfwd.pid", "--user", "nobody", "--group", "nogroup", "--nodns",
            ])
            let port = self.port
            guard result.status == 0, waitUntil("postfwd to listen on \(port)", { (try? RawSMTPClient(port: port)) != nil }) else {
                stop()
                throw ExternalProcess.MissingTool(program: "postfwd (did not start): \(result.output)\(result.error)")
            }
        }

        var service: String { "inet:127.0.0.1:\(port)" }

        func stop() {
            if let text = try? String(contentsOfFile: "\(directory)/postfwd.pid", encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
            {
                // Its own process group (it daemonized with setsid) holds the workers too; anything
                // else would be someone else's group.
                if getpgid(pid) == pid { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
                _ = waitUntil("postfwd \(pid) to stop", timeout: 10) { kill(pid, 0) != 0 }
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
