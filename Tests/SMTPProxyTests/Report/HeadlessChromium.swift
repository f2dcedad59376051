import Foundation
import Testing

/// Debian's `chromium` in headless mode, through `ExternalProcess`: loads a report from disk,
/// lets its script run (virtual time), and hands back the DOM as serialised after the script, or
/// a PNG screenshot. Each run gets its own profile directory, so runs never share state.
enum HeadlessChromium {
    struct Page {
        /// `--dump-dom`'s output: the document after the script ran.
        var dom: String
        /// Chromium's log (`--enable-logging=stderr`): console errors appear as `Uncaught …`.
        var log: String
        /// Wall-clock seconds from start to exit.
        var seconds: Double

        var uncaughtErrors: [String] {
            log.split(separator: "\n").filter { $0.contains("Uncaught") }.map(String.init)
        }

        /// What the page's `window.onerror` caught (`#script-errors`), empty when nothing.
        var caughtErrors: String {
            guard let start = dom.range(of: "<div id=\"script-errors\"") else { return "<no #script-errors element>" }
            let rest = dom[start.upperBound...]
            guard let open = rest.firstIndex(of: ">"), let close = rest.range(of: "</div>") else { return "<unparsable>" }
            return String(rest[rest.index(after: open)..<close.lowerBound])
        }
    }

    static func url(_ file: String, fragment: String?) -> String {
        "file://" + file + (fragment.map { "#" + $0 } ?? "")
    }

    /// `fragment` as the page reads it (`session=several-sessions.pcap%231`).
    static func dumpDOM(_ file: String, fragment: String? = nil) throws -> Page {
        let profile = NSTemporaryDirectory() + "report-chromium-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let started = Date()
        let result = try ExternalProcess.run("chromium", baseArguments(profile) + ["--dump-dom", url(file, fragment: fragment)])
        let page = Page(dom: result.output, log: result.error, seconds: Date().timeIntervalSince(started))
        #expect(result.status == 0, "chromium exited \(result.status): \(result.error.suffix(2000))")
        return page
    }

    /// Writes a `width`×`height` PNG of the page to `png`.
    static func screenshot(_ file: String, fragment: String? = nil, to png: String, width: Int, height: Int) throws {
        let profile = NSTemporaryDirectory() + "report-chromium-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try ExternalProcess.run(
            "chromium",
            baseArguments(profile) + ["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(png)", url(file, fragment: fragment)])
        #expect(result.status == 0, "chromium exited \(result.status): \(result.error.suffix(2000))")
    }

    private static func baseArguments(_ profile: String) -> [String] {
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile)", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
        ]
    }
}
