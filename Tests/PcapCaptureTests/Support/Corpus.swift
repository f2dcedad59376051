import Foundation

/// The shared capture corpus (read-only). `SMTP_CAPTURE_CORPUS` overrides the location.
enum Corpus {
    static let directory = ProcessInfo.processInfo.environment["SMTP_CAPTURE_CORPUS"] ?? "/work/shared/captures-corpus"

    static func path(_ name: String) -> String { directory + "/" + name }
}
