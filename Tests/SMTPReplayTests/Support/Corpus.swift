import Foundation

/// The captures the replay tests read: the third-party corpus in `Tests/Corpus/` (sources and
/// licences in its NOTICE) and the repository's own `captures/` (see captures/README.md).
///
/// `SMTP_CAPTURE_CORPUS` overrides the corpus location. Paths are computed from this file's
/// place in the repository, never absolute.
enum Corpus {
    /// The repository root: this file is `<repo>/Tests/SMTPReplayTests/Support/Corpus.swift`.
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.standardizedFileURL.path
    }()

    static let directory: String = ProcessInfo.processInfo.environment["SMTP_CAPTURE_CORPUS"]
        ?? repository + "/Tests/Corpus"

    /// Every capture file of the corpus, by name.
    static let files: [String] = captureNames(in: directory)

    /// The repository's `captures/` directory.
    static let capturesDirectory = repository + "/captures"

    /// Every capture file in the repository's `captures/`, as `captures/<name>`.
    static let repositoryCaptures: [String] = captureNames(in: capturesDirectory).map { "captures/" + $0 }

    /// Every capture the corpus-wide tests run: the corpus files by name, then `captures/<name>`.
    static let allCaptures: [String] = files + repositoryCaptures

    /// The path of a corpus file name, or of `captures/<name>` in the repository.
    static func path(_ name: String) -> String {
        name.hasPrefix("captures/") ? repository + "/" + name : directory + "/" + name
    }

    /// The name sessions are called by (`<file name>#<n>`).
    static func sessionPrefix(_ name: String) -> String {
        name.split(separator: "/").last.map(String.init) ?? name
    }

    /// The one file that is damaged on purpose (a bogus record length after 18 packets).
    static let damaged: Set<String> = ["suricata-verify__smtp-to-comma.pcap"]

    private static func captureNames(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }
}
