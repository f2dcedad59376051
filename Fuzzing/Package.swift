// swift-tools-version: 6.1
// libFuzzer targets for smtp-inspect. Built apart from the main package (like Benchmarks/), with
// the fuzzer and address sanitizers on every module:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// `Fuzzing/run [target|all] [seconds]` does that and runs the targets over their corpora.
import PackageDescription

let dependencies: [Target.Dependency] = [
    .product(name: "SMTPCore", package: "smtp-inspect"),
    .product(name: "NIOCore", package: "swift-nio"),
]

let package = Package(
    name: "smtp-inspect-fuzzing",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "smtp-inspect", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: dependencies + ["CLibFuzzer"], path: "Sources/FuzzSupport"),
        .executableTarget(
            name: "FuzzCommandParser", dependencies: dependencies + ["FuzzSupport"], path: "Sources/FuzzCommandParser"
        ),
        .executableTarget(
            name: "FuzzReplyParser", dependencies: dependencies + ["FuzzSupport"], path: "Sources/FuzzReplyParser"
        ),
        .executableTarget(
            name: "FuzzEngine",
            dependencies: dependencies + ["FuzzSupport", .product(name: "SMTPFilters", package: "smtp-inspect")],
            path: "Sources/FuzzEngine"
        ),
        .executableTarget(
            name: "FuzzPcapReplay",
            dependencies: dependencies + [
                "FuzzSupport",
                .product(name: "SMTPReplay", package: "smtp-inspect"),
                .product(name: "SMTPFilters", package: "smtp-inspect"),
                .product(name: "PcapCapture", package: "smtp-inspect"),
            ],
            path: "Sources/FuzzPcapReplay"
        ),
        .executableTarget(
            name: "FuzzRuleLoader",
            dependencies: dependencies + ["FuzzSupport", .product(name: "SMTPFilters", package: "smtp-inspect")],
            path: "Sources/FuzzRuleLoader"
        ),
    ],
    swiftLanguageModes: [.v6]
)
