import Foundation

/// A Prometheus text-format (0.0.4) document, parsed strictly: every line is blank, a `# HELP` or
/// `# TYPE` comment, or a sample `name{label="value",…} value`; a sample's family must have had
/// its `# TYPE` line first. Anything else is a `problem`.
struct PrometheusExposition {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    /// Metric family → type (`counter`, `gauge`, `histogram`…).
    var types: [String: String] = [:]
    var problems: [String] = []

    init(_ text: String) {
        if !text.isEmpty && !text.hasSuffix("\n") { problems.append("the text does not end with a line feed") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                parseComment(line)
            } else if let sample = Self.parseSample(line) {
                if types[familyName(of: sample.name)] == nil { problems.append("no # TYPE before \(line)") }
                samples.append(sample)
            } else {
                problems.append("not a sample line: \(line)")
            }
        }
    }

    private mutating func parseComment(_ line: Substring) {
        let words = line.split(separator: " ", maxSplits: 3)
        guard words.count >= 3, words[0] == "#", words[1] == "TYPE" || words[1] == "HELP" else { return }
        guard Self.isMetricName(words[2]) else { return problems.append("bad metric name in \(line)") }
        if words[1] == "TYPE" {
            let type = words.count == 4 ? String(words[3]) : ""
            guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(type) else { return problems.append("bad type in \(line)") }
            guard types[String(words[2])] == nil else { return problems.append("second # TYPE for \(words[2])") }
            types[String(words[2])] = type
        }
    }

    /// `name`, `name{a="1",b="2"}`, then one space and a float (`+Inf`, `NaN` allowed).
    static func parseSample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = rest[..<nameEnd]
        guard isMetricName(name) else { return nil }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "="), isLabelName(rest[..<equals]) else { return nil }
                let key = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.popFirst() else { return nil }
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.popFirst() == "\"", labels.updateValue(value, forKey: key) == nil else { return nil }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let valueText = rest.dropFirst()
        let value: Double?
        switch valueText {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default: value = Double(valueText)
        }
        guard let value else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    static func isMetricName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    static func isLabelName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// The family a sample belongs to (`x_bucket`, `x_sum`, `x_count` of histogram `x`).
    func familyName(of sample: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return sample
    }

    /// The value of the one sample with exactly these labels; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Every sample of `name` whose labels include `matching`, summed.
    func sum(_ name: String, matching: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    /// The label sets of `name` with a value other than 0.
    func nonZero(_ name: String) -> [[String: String]] {
        samples.filter { $0.name == name && $0.value != 0 }.map(\.labels)
    }
}
