// Micro-benchmarks of the SMTPCore engine (issue 6, deliverable 2). Every benchmark runs 1,000
// logical operations per iteration (`scalingFactor: .kilo`), so the scaled figures are per command
// or per 64 KiB body chunk. Run from Benchmarks/: `swift package benchmark` (see README.md).
import Benchmark
import NIOCore
import SMTPCore
import SMTPFilters

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    // Framing and grammar alone: CommandLineFramer + SMTPGrammar.parseCommandLine.
    Benchmark("Command parsing (framer + grammar)") { benchmark in
        var framer = CommandLineFramer(maximumLength: SMTPDefaults.maximumCommandLineLength)
        var buffer = EngineFixture.pipelinedCommands(count: benchmark.configuration.scalingFactor.rawValue)
        benchmark.startMeasurement()
        while let frame = framer.next(from: &buffer) {
            if case .line(let line) = frame {
                blackHole(SMTPGrammar.parseCommandLine(line.content))
            }
        }
        benchmark.stopMeasurement()
        precondition(buffer.readableBytes == 0)
    }

    // The whole engine, shipped filters active: each command forwarded, its reply paired with it,
    // both logged as events. Per command: framing, parsing, canonical argument, rules, effects.
    Benchmark("Engine MAIL RCPT RSET (shipped filters)") { benchmark in
        var (engine, effects) = EngineFixture.session(policy: EngineFixture.shippedFilters)
        let exchanges = EngineFixture.transaction
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            let exchange = exchanges[index % exchanges.count]
            engine.receiveFromClient(exchange.command, at: EngineFixture.time, into: &effects)
            engine.receiveFromServer(exchange.reply, at: EngineFixture.time, into: &effects)
            blackHole(effects.actions.count)
            effects.removeAll()
        }
        benchmark.stopMeasurement()
    }

    // The floor of a command's cost in the engine: a verb with no argument and no rule.
    Benchmark("Engine NOOP (shipped filters)") { benchmark in
        var (engine, effects) = EngineFixture.session(policy: EngineFixture.shippedFilters)
        let exchange = EngineFixture.noop
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            engine.receiveFromClient(exchange.command, at: EngineFixture.time, into: &effects)
            engine.receiveFromServer(exchange.reply, at: EngineFixture.time, into: &effects)
            blackHole(effects.actions.count)
            effects.removeAll()
        }
        benchmark.stopMeasurement()
    }

    // The DATA fast path: clean 64 KiB chunks inside a message, from receiveFromClient to
    // InspectionEffects.actions. Target: zero mallocs per chunk (the threshold below).
    Benchmark(
        "Engine DATA body 64 KiB chunks",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal, BodyMetric.mebibytesPerSecond],
            scalingFactor: .kilo,
            maxDuration: .seconds(3),
            maxIterations: 1_000,
            thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])]
        )
    ) { benchmark in
        var (engine, effects) = EngineFixture.insideBody(policy: EngineFixture.shippedFiltersLargeMessages)
        let chunk = EngineFixture.bodyChunk
        var forwarded = 0
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        for _ in benchmark.scaledIterations {
            engine.receiveFromClient(chunk, at: EngineFixture.time, into: &effects)
            for case .writeToServer(let slice) in effects.actions { forwarded &+= slice.readableBytes }
            effects.removeAll()
        }
        let elapsed = clock.now - start
        benchmark.stopMeasurement()
        precondition(forwarded == benchmark.configuration.scalingFactor.rawValue * chunk.readableBytes, "the body was not forwarded whole")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        benchmark.measurement(BodyMetric.mebibytesPerSecond, Int(Double(forwarded) / 1_048_576 / seconds))
    }
}
