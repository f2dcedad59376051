import Foundation

/// The shared capture corpus (read-only), beside the repository at
/// `<repo>/../shared/captures-corpus`; `SMTP_CAPTURE_CORPUS` overrides the location. The path is
/// computed from this file's place in the repository, never absolute.
enum Corpus {
    /// The repository root: this file is `<repo>/Tests/PcapCaptureTests/Support/Corpus.swift`.
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.standardizedFileURL.path
    }()

    static let directory: String = ProcessInfo.processInfo.environment["SMTP_CAPTURE_CORPUS"]
        ?? URL(fileURLWithPath: repository).deletingLastPathComponent().appendingPathComponent("shared/captures-corpus").standardizedFileURL.path

    static func path(_ name: String) -> String { directory + "/" + name }
}
