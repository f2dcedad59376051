import Foundation
import Testing

/// Fetches a URL with the real `curl`, as Prometheus or an operator would.
enum MetricsScrape {
    struct Response {
        var status: Int
        var contentType: String
        var body: String
    }

    /// `curl -sS` with `arguments` (e.g. `-X POST`) before the URL; the body, status and type.
    static func fetch(_ url: String, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Response {
        let marker = "\n--curl-status--"
        let result = try ExternalProcess.run(
            "curl", ["-sS", "--max-time", "10", "-w", marker + "%{http_code} %{content_type}"] + arguments + [url])
        #expect(result.status == 0, "curl \(url): \(result.error)", sourceLocation: sourceLocation)
        guard let range = result.output.range(of: marker, options: .backwards) else {
            return Response(status: 0, contentType: "", body: result.output)
        }
        let trailer = result.output[range.upperBound...].split(separator: " ", maxSplits: 1)
        return Response(
            status: Int(trailer.first ?? "") ?? 0, contentType: trailer.count > 1 ? String(trailer[1]) : "",
            body: String(result.output[..<range.lowerBound]))
    }

    /// `GET /metrics`, checked to be a 200 in the Prometheus text format, parsed.
    static func metrics(port: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> PrometheusExposition {
        let response = try fetch("http://127.0.0.1:\(port)/metrics", sourceLocation: sourceLocation)
        #expect(response.status == 200, sourceLocation: sourceLocation)
        #expect(response.contentType.hasPrefix("text/plain; version=0.0.4"), "\(response.contentType)", sourceLocation: sourceLocation)
        let parsed = PrometheusExposition(response.body)
        #expect(parsed.problems == [], "\(response.body)", sourceLocation: sourceLocation)
        #expect(!parsed.samples.isEmpty, sourceLocation: sourceLocation)
        return parsed
    }
}
