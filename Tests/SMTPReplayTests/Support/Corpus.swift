import Foundation

/// The shared capture corpus (read-only; see its MANIFEST.md). `SMTP_CAPTURE_CORPUS` overrides
/// the location.
enum Corpus {
    static let directory = ProcessInfo.processInfo.environment["SMTP_CAPTURE_CORPUS"] ?? "/work/shared/captures-corpus"

    /// Every capture file, by name.
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    /// The one file that is damaged on purpose (a bogus record length after 18 packets).
    static let damaged: Set<String> = ["suricata-verify__smtp-to-comma.pcap"]
}
