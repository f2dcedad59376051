/// "Did you mean …?" for misspelt keys and actions.
///
///     KeySuggestion.closest(to: "comand", among: ["command", "client"])        // "command"
///     KeySuggestion.closest(to: "ehlo_keyword", among: ["ehlo-keyword"])       // "ehlo-keyword"
///     KeySuggestion.closest(to: "frobnicate", among: ["command"])              // nil
enum KeySuggestion {
    static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let normalizedWord = normalized(word)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(normalizedWord, normalized(candidate))
            if distance <= max(1, min(2, normalizedWord.count / 3)), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// ` (did you mean 'command'?)`, or an empty string.
    static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// `'a', 'b' or 'c'`.
    static func alternatives(_ words: [String], quoted: Bool = true) -> String {
        let words = quoted ? words.map { "'\($0)'" } : words
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + words[words.count - 1]
    }

    private static func normalized(_ word: String) -> [Character] {
        Array(word.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
    }

    /// Edit distance counting an insertion, a deletion, a substitution or a swap of two
    /// neighbours as one edit (optimal string alignment): `nmae` is one edit from `name`.
    private static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        guard !lhs.isEmpty else { return rhs.count }
        guard !rhs.isEmpty else { return lhs.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: rhs.count + 1), count: lhs.count + 1)
        for i in 0...lhs.count { table[i][0] = i }
        for j in 0...rhs.count { table[0][j] = j }
        for i in 1...lhs.count {
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[lhs.count][rhs.count]
    }
}
