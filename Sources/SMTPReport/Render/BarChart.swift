/// A horizontal bar chart as inline SVG: one row per label, each bar made of stacked segments
/// (one segment for a plain count). A row may name a search filter (`data-filter`,
/// `data-value`); the page's script turns a click on it into that search.
struct BarChart {
    struct Segment {
        var value: Int
        /// A CSS class: the colour, and the legend entry.
        var style: String
    }

    struct Row {
        var label: String
        var segments: [Segment]
        var filter: (kind: String, value: String)?
        var total: Int { segments.reduce(0) { $0 + $1.value } }
    }

    var title: String
    var rows: [Row]
    /// Segment style → legend text, for stacked charts.
    var legend: [(style: String, text: String)] = []

    static let width = 440
    static let labelWidth = 170
    static let barWidth = 200
    static let rowHeight = 22

    /// A `<figure>` with the title, the SVG and, for stacked charts, a legend.
    func html() -> String {
        var out = "<figure class=\"chart\"><figcaption>\(DisplayText.html(title))</figcaption>"
        guard !rows.isEmpty else { return out + "<p class=\"empty\">none</p></figure>" }
        let largest = max(1, rows.map(\.total).max() ?? 1)
        let height = rows.count * Self.rowHeight + 4
        out += "<svg class=\"bars\" role=\"img\" viewBox=\"0 0 \(Self.width) \(height)\" width=\"\(Self.width)\" height=\"\(height)\">"
        for (position, row) in rows.enumerated() {
            let y = position * Self.rowHeight + 2
            var attributes = ""
            if let filter = row.filter {
                attributes = " data-filter=\"\(DisplayText.html(filter.kind))\" data-value=\"\(DisplayText.html(filter.value, limit: 1_000))\" tabindex=\"0\""
            }
            out += "<g class=\"bar-row\(row.filter == nil ? "" : " clickable")\"\(attributes)>"
            out += "<title>\(DisplayText.html(row.label, limit: 1_000)): \(row.total)</title>"
            out += "<text class=\"bar-label\" x=\"\(Self.labelWidth - 6)\" y=\"\(y + 15)\" text-anchor=\"end\">\(DisplayText.html(row.label, limit: 24))</text>"
            var x = Double(Self.labelWidth)
            for segment in row.segments where segment.value > 0 {
                let width = max(1.5, Double(segment.value) / Double(largest) * Double(Self.barWidth))
                out += "<rect class=\"\(segment.style)\" x=\"\(Self.format(x))\" y=\"\(y + 3)\" width=\"\(Self.format(width))\" height=\"\(Self.rowHeight - 6)\" rx=\"2\"/>"
                x += width
            }
            out += "<text class=\"bar-value\" x=\"\(Self.format(x + 5))\" y=\"\(y + 15)\">\(row.total)</text></g>"
        }
        out += "</svg>"
        if !legend.isEmpty {
            out += "<div class=\"legend\">"
            for entry in legend {
                out += "<span><i class=\"swatch \(entry.style)\"></i>\(DisplayText.html(entry.text))</span>"
            }
            out += "</div>"
        }
        return out + "</figure>"
    }

    private static func format(_ value: Double) -> String {
        String(Double(Int(value * 10)) / 10)
    }
}
