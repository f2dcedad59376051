// swift-tools-version: 6.1
// Benchmarks live outside the main package so that its build stays lean.
//   swift run -c release engine-throughput     # engine MB/s on a 100 MiB DATA body, commands/s
//   swift run -c release make-capture F N K    # a synthetic capture for scripts/replay-vs-tshark
//   swift run -c release nio-splice P H P      # a NIO byte splicer, the floor in scripts/compare --floor
//   swift run -c release client-limits         # client-limit counters: bytes per key, ns per event at 1k and 1M keys
//   swift package benchmark                    # ordo-one micro-benchmarks of the engine (Benchmarks/SMTPCoreBenchmarks)
import PackageDescription

/// What the engine benchmarks link: the engine, the rule loader, ByteBuffer.
let engineDependencies: [Target.Dependency] = [
    .product(name: "SMTPCore", package: "smtp-inspect"),
    .product(name: "SMTPFilters", package: "smtp-inspect"),
    .product(name: "NIOCore", package: "swift-nio"),
]

let package = Package(
    name: "smtp-inspect-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "smtp-inspect", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "engine-throughput",
            dependencies: engineDependencies,
            path: "Sources/engine-throughput"
        ),
        .executableTarget(
            name: "nio-splice",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Sources/nio-splice"
        ),
        .executableTarget(
            name: "client-limits",
            dependencies: [
                .product(name: "SMTPCore", package: "smtp-inspect"),
                .product(name: "SMTPFilters", package: "smtp-inspect"),
                .product(name: "SMTPServices", package: "smtp-inspect"),
            ],
            path: "Sources/client-limits"
        ),
        .executableTarget(
            name: "make-capture",
            dependencies: [
                .product(name: "PcapCapture", package: "smtp-inspect"), .product(name: "IPAddressing", package: "smtp-inspect"),
            ],
            path: "Sources/make-capture"
        ),
        .executableTarget(
            name: "SMTPCoreBenchmarks",
            dependencies: engineDependencies + [.product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/SMTPCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
