import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPProxy
import SMTPServices
import Testing

/// `smtp_inspect_milter_*`: what a `MilterConsultant` reports to `ProxyMetrics` as its observer.
@Suite struct MilterMetricsTests {
    @Test func verdictsErrorsAndLatencyReachTheExposition() async throws {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let metrics = ProxyMetrics()
        let fake = try await FakeMilter(group: group, final: "r")
        let consultant = MilterConsultant(
            milters: [
                MilterSettings(name: "fake", socket: .inet(host: "127.0.0.1", port: fake.port), timeout: .seconds(5)),
                MilterSettings(name: "gone", socket: .inet(host: "127.0.0.1", port: freeLoopbackPort()), timeout: .seconds(5), onError: .accept),
            ],
            observer: metrics)
        let driver = MilterSessionDriver(consultant, eventLoop: group.next())
        let run = try await driver.run(message: RealMilterTests.message(subject: "m", body: ["b"]))
        await driver.end()
        await fake.stop()
        #expect(run.refusal?.stage == .endOfMessage)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let continues = run.milterRecords.filter { $0.milter == "fake" && $0.verdict == "continue" }.count
        #expect(continues == 5)
        #expect(text.contains(#"smtp_inspect_milter_verdicts_total{milter="fake",verdict="continue"} 5"#), "\(text)")
        #expect(text.contains(#"smtp_inspect_milter_verdicts_total{milter="fake",verdict="reject"} 1"#))
        #expect(text.contains(#"smtp_inspect_milter_verdicts_total{milter="gone",verdict="error"} 1"#))
        #expect(text.contains(#"smtp_inspect_milter_errors_total{milter="gone",kind="unavailable"} 1"#))
        #expect(text.contains(#"smtp_inspect_milter_latency_seconds_count{milter="fake"} 6"#))
    }
}
