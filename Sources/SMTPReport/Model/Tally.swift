/// Counts by key; `top` lists the largest counts first (ties by key, so the page is stable).
public struct Tally: Sendable, Equatable {
    public private(set) var counts: [String: Int] = [:]

    public init() {}

    public mutating func add(_ key: String, _ amount: Int = 1) {
        counts[key, default: 0] += amount
    }

    public subscript(key: String) -> Int { counts[key] ?? 0 }

    public var total: Int { counts.values.reduce(0, +) }

    public func top(_ limit: Int) -> [(key: String, count: Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map { ($0.key, $0.value) }
    }
}
