import TestSupport
import NIOCore
import SMTPCore
import Testing

/// The key property of the engine: the same bytes, in any segmentation, give the same decisions
/// and the same output — so no rule can be evaded by how TCP cuts the stream, and replay
/// reproduces live sessions exactly.
@Suite struct SegmentationPropertyTests {
    struct Result: Equatable {
        var toServer: [UInt8]
        var toClient: [UInt8]
        var events: [AuditEvent.Kind]
        var closeClient: Bool
        var closeServer: Bool
        /// `--tls terminate`: how many times each leg was to start TLS.
        var tlsStarts = [0, 0]

        /// The first difference, for a readable failure.
        func difference(from other: Result) -> String {
            if toServer != other.toServer {
                let index = (0..<min(toServer.count, other.toServer.count)).first { toServer[$0] != other.toServer[$0] }
                    ?? min(toServer.count, other.toServer.count)
                return "toServer differs at octet \(index)"
            }
            if toClient != other.toClient { return "toClient differs" }
            if let index = (0..<min(events.count, other.events.count)).first(where: { events[$0] != other.events[$0] }) {
                return "event \(index): \(events[index]) vs \(other.events[index])"
            }
            if events.count != other.events.count { return "event count \(events.count) vs \(other.events.count)" }
            return "close flags differ"
        }
    }

    static func run(
        _ steps: [Step], split: (inout SeededGenerator, [UInt8]) -> [[UInt8]], seed: UInt64, tlsMode: TLSMode = .passthrough
    ) -> Result {
        var rng = SeededGenerator(seed: seed)
        var h = EngineHarness(policy: SessionGenerator.policy, tlsMode: tlsMode)
        for step in steps {
            // Under `--tls terminate` the rest of a write that was still on its way when the leg
            // turned to TLS is read by the TLS layer, not the engine (and fails its handshake):
            // model that by dropping it.
            let starts = (h.clientTLSStarts, h.serverTLSStarts)
            switch step {
            case .client(let bytes):
                for piece in split(&rng, bytes) where h.clientTLSStarts == starts.0 { h.client(piece) }
            case .server(let bytes):
                for piece in split(&rng, bytes) where h.serverTLSStarts == starts.1 { h.server(piece) }
            default:
                h.run(step)
            }
        }
        h.finish()
        // Whether pipelined plain text reached the engine before the upgrade (and was discarded
        // with this anomaly) or the TLS layer after it depends on how it was cut: either way it
        // never reaches the upstream, which the comparison of `toServer` checks. (The octets the
        // model dropped are not counted either.)
        let events = tlsMode != .terminate ? h.events.map(\.kind) : h.events.compactMap { event -> AuditEvent.Kind? in
            switch event.kind {
            case .anomaly(.pipelinedAfterStartTLS, _): return nil
            case .sessionEnd(var summary):
                (summary.bytesFromClient, summary.bytesFromServer) = (0, 0)
                return .sessionEnd(summary)
            default: return event.kind
            }
        }
        return Result(
            toServer: h.toServer, toClient: h.toClient, events: events,
            closeClient: h.closeClient, closeServer: h.closeServer, tlsStarts: [h.clientTLSStarts, h.serverTLSStarts])
    }

    static func whole(_ rng: inout SeededGenerator, _ bytes: [UInt8]) -> [[UInt8]] { [bytes] }

    static func bytewise(_ rng: inout SeededGenerator, _ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }

    static func randomSplits(_ rng: inout SeededGenerator, _ bytes: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let length = Int.random(in: 1...max(1, min(bytes.count - index, Int.random(in: 1...40, using: &rng))), using: &rng)
            pieces.append(Array(bytes[index..<(index + length)]))
            index += length
        }
        return pieces
    }

    /// What a recording shows of the client is everything it sent, AUTH secrets aside.
    @Test func transcriptIsTheClientStreamWithSecretsRedacted() {
        for seed in 0..<300 {
            var generator = SessionGenerator(seed: UInt64(seed))
            let steps = generator.session()
            var h = EngineHarness(policy: SessionGenerator.policy, recording: true)
            var sent: [UInt8] = []
            for step in steps {
                if case .client(let bytes) = step { sent += bytes }
                h.run(step)
            }
            h.finish()
            let secrets = [Array("dXNlcg==".utf8), Array("cGFzcw==".utf8)]
            var expected = sent
            for secret in secrets {
                expected = Self.replacing(secret, with: Array("cmVkYWN0ZWQ=".utf8), in: expected)
            }
            // Bytes dropped as part of an overlong line are the only ones not transcribed.
            #expect(h.transcript == expected || h.anomalyKinds.contains("line-too-long"), "seed \(seed)")
        }
    }

    static func replacing(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if index + pattern.count <= bytes.count && Array(bytes[index..<(index + pattern.count)]) == pattern {
                out += replacement
                index += pattern.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    @Test(arguments: 0..<20)
    func randomSegmentationGivesIdenticalEffects(batch: Int) {
        for offset in 0..<100 {
            let seed = UInt64(batch * 100 + offset)
            var generator = SessionGenerator(seed: seed)
            let steps = generator.session()
            let reference = Self.run(steps, split: Self.whole, seed: seed)
            let split = Self.run(steps, split: Self.randomSplits, seed: seed)
            #expect(split == reference ? true : false, "seed \(seed): random segmentation: \(split.difference(from: reference))")
            if offset % 10 == 0 {
                let drip = Self.run(steps, split: Self.bytewise, seed: seed)
                #expect(drip == reference ? true : false, "seed \(seed): byte by byte: \(drip.difference(from: reference))")
            }
        }
    }

    /// The same under `--tls terminate`, where a 220 to STARTTLS upgrades the legs and the
    /// session goes on being inspected: the upgrades happen at the same point of the stream.
    @Test(arguments: 0..<5)
    func randomSegmentationGivesIdenticalEffectsUnderTermination(batch: Int) {
        var upgrades = 0
        for offset in 0..<100 {
            let seed = UInt64(batch * 100 + offset)
            var generator = SessionGenerator(seed: seed)
            let steps = generator.session()
            let reference = Self.run(steps, split: Self.whole, seed: seed, tlsMode: .terminate)
            let split = Self.run(steps, split: Self.randomSplits, seed: seed, tlsMode: .terminate)
            #expect(split == reference ? true : false, "seed \(seed): random segmentation: \(split.difference(from: reference))")
            upgrades += reference.tlsStarts[0]
        }
        #expect(upgrades > 0, "no generated session reached a TLS upgrade")
    }

    /// Generated sessions exercise what they claim to (so the property above is not vacuous).
    @Test func generatedSessionsCoverTheThreats() {
        var kinds: Set<String> = []
        var actions: Set<String> = []
        for seed in 0..<300 {
            var generator = SessionGenerator(seed: UInt64(seed))
            let result = Self.run(generator.session(), split: Self.whole, seed: 0)
            for event in result.events {
                switch event {
                case .anomaly(let kind, _): kinds.insert(kind.rawValue)
                case .command(let record): actions.insert(record.action)
                default: break
                }
            }
        }
        for kind in ["bare-lf", "bare-cr", "nul", "smuggling-attempt", "pipelined-after-starttls", "unknown-command",
            "stripped-keyword-used", "pipelined-after-quit"]
        {
            #expect(kinds.contains(kind), "no generated session produced \(kind)")
        }
        for action in ["forward", "reject"] {
            #expect(actions.contains(action))
        }
    }
}
