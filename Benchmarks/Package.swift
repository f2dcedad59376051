// swift-tools-version: 6.1
// Benchmarks live outside the main package so that its build stays lean.
//   swift run -c release engine-throughput     # engine MB/s on a 100 MiB DATA body, commands/s
//   swift run -c release make-capture F N K    # a synthetic capture for scripts/replay-vs-tshark
import PackageDescription

let package = Package(
    name: "smtp-inspect-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "smtp-inspect", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "engine-throughput",
            dependencies: [
                .product(name: "SMTPCore", package: "smtp-inspect"),
                .product(name: "SMTPFilters", package: "smtp-inspect"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/engine-throughput"
        ),
        .executableTarget(
            name: "make-capture",
            dependencies: [.product(name: "PcapCapture", package: "smtp-inspect")],
            path: "Sources/make-capture"
        ),
    ],
    swiftLanguageModes: [.v6]
)
