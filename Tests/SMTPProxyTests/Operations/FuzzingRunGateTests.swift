import Foundation
import Testing

/// `Fuzzing/run` is a gate of `scripts/test`: a build that fails must fail the run. The test puts
/// a `swift` first on PATH that fails the way a broken build does, and runs the real script.
@Suite struct FuzzingRunGateTests {
    @Test("Fuzzing/run exits 1 and says so when the build fails")
    func failedBuildFailsTheRun() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            """
            #!/bin/sh
            echo "error: emit-module command failed with exit code 1 (a build broken for the test)" >&2
            exit 1

            """, to: "swift")
        chmod(scratch.file("swift"), 0o755)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = scratch.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let run = try ExternalProcess.run("bash", [ProxyHarness.repositoryRoot + "/Fuzzing/run", "engine", "1"], environment: environment)
        #expect(run.status == 1, "exit \(run.status): \(run.output) \(run.error)")
        #expect(run.error.contains("Fuzzing/run: build failed (swift build exit 1)"), "\(run.error)")
        #expect(!run.output.contains("executed"), "no target ran: \(run.output)")
    }
}
