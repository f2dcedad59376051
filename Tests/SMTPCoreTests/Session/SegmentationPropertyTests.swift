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

    static func run(_ steps: [Step], split: (inout SeededGenerator, [UInt8]) -> [[UInt8]], seed: UInt64) -> Result {
        var rng = SeededGenerator(seed: seed)
        var h = EngineHarness(policy: SessionGenerator.policy)
        for step in steps {
            switch step {
            case .client(let bytes):
                for piece in split(&rng, bytes) { h.client(piece) }
            case .server(let bytes):
                for piece in split(&rng, bytes) { h.server(piece) }
            default:
                h.run(step)
            }
        }
        h.finish()
        return Result(
            toServer: h.toServer, toClient: h.toClient, events: h.events.map(\.kind),
            closeClient: h.closeClient, closeServer: h.closeServer)
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
