import Foundation

/// The third-party capture corpus in the repository, `Tests/Corpus/` (sources and licences in its
/// NOTICE); `SMTP_CAPTURE_CORPUS` overrides the location. The path is computed from this file's
/// place in the repository, never absolute.
enum Corpus {
    /// The repository root: this file is `<repo>/Tests/PcapCaptureTests/Support/Corpus.swift`.
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.standardizedFileURL.path
    }()

    static let directory: String = ProcessInfo.processInfo.environment["SMTP_CAPTURE_CORPUS"]
        ?? repository + "/Tests/Corpus"

    static func path(_ name: String) -> String { directory + "/" + name }
}
