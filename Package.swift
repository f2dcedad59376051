// swift-tools-version: 6.1
//
// smtp-inspect — a transparent SMTP inspecting proxy.
//
// Module edges (data flows one way: bytes in → engine → decisions out):
//   smtp-inspect (CLI) → SMTPProxy  → SMTPServices → SMTPFilters → SMTPCore → NIOCore (ByteBuffer only)
//                      → SMTPReplay → PcapCapture → CPcap (libpcap)
//                      → SMTPReport → SMTPReplay (audit logs and captures → one HTML page)
//   SMTPCore, PcapCapture → IPAddressing (addresses and CIDR blocks as values; no dependencies)
// SMTPCore is pure: no sockets, event loops, clocks, Foundation or logging. SMTPProxy and
// SMTPReplay's resend (replay --to) touch NIOPosix; only PcapCapture touches libpcap.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "smtp-inspect",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "smtp-inspect", targets: ["smtp-inspect"]),
        .library(name: "SMTPCore", targets: ["SMTPCore"]),
        .library(name: "SMTPFilters", targets: ["SMTPFilters"]),
        .library(name: "PcapCapture", targets: ["PcapCapture"]),
        .library(name: "SMTPReplay", targets: ["SMTPReplay"]),
        .library(name: "IPAddressing", targets: ["IPAddressing"]),
        .library(name: "SMTPServices", targets: ["SMTPServices"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // IP addresses and CIDR blocks as values: the one type of rule files, the PROXY protocol,
        // the engine's endpoints and pcap decoding. No dependencies at all.
        .target(name: "IPAddressing", swiftSettings: swiftSettings),
        .target(
            name: "SMTPCore",
            dependencies: ["IPAddressing", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SMTPFilters",
            dependencies: [
                "SMTPCore", "IPAddressing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"]), .brew(["libpcap"])]
        ),
        .target(
            name: "PcapCapture",
            dependencies: ["CPcap", "IPAddressing", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SMTPReplay",
            dependencies: [
                "SMTPCore", "SMTPFilters", "SMTPServices", "PcapCapture", "IPAddressing",
                .product(name: "NIOCore", package: "swift-nio"),
                // replay --to: the live connection (ClientBootstrap) and its TLS after STARTTLS.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Driver-side clients of outside services the engine consults (client limits, policy
        // services, milters): used by the live proxy and by replay alike.
        .target(
            name: "SMTPServices",
            dependencies: [
                "SMTPCore", "SMTPFilters", "IPAddressing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SMTPReport",
            dependencies: ["SMTPCore", "SMTPReplay"],
            // The page's script and style as real files, compiled into the binary as byte arrays
            // (`PackageResources.report_js` …): no resource bundle to find at run time.
            resources: [
                .embedInCode("Resources/report.js"),
                .embedInCode("Resources/report-errors.js"),
                .embedInCode("Resources/report.css"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SMTPProxy",
            dependencies: [
                "SMTPCore", "SMTPFilters", "SMTPServices", "PcapCapture", "IPAddressing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "smtp-inspect",
            dependencies: [
                "SMTPCore",
                "SMTPFilters",
                "SMTPReplay",
                "SMTPReport",
                "PcapCapture",
                "SMTPProxy",
                "SMTPServices",
                "IPAddressing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // What several test targets share (a temporary directory, a seeded generator); tests only.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "IPAddressingTests", dependencies: ["IPAddressing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SMTPCoreTests",
            dependencies: ["SMTPCore", "IPAddressing", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPFiltersTests",
            dependencies: ["SMTPFilters", "SMTPCore", "IPAddressing", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPProxyTests",
            dependencies: [
                "SMTPProxy", "SMTPServices", "SMTPCore", "SMTPFilters", "SMTPReplay", "SMTPReport", "PcapCapture", "IPAddressing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPServicesTests",
            dependencies: [
                "SMTPServices", "SMTPFilters", "SMTPCore", "IPAddressing", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PcapCaptureTests",
            dependencies: ["PcapCapture", "IPAddressing", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPReplayTests",
            dependencies: ["SMTPReplay", "SMTPServices", "SMTPCore", "SMTPFilters", "PcapCapture", "IPAddressing", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
