/// The argument of `BDAT chunk-size [LAST]`.
///
///     BDAT 86 LAST
///     BDAT 8192
///
/// SeeAlso: RFC 3030 §2 (`bdat-cmd ::= "BDAT" SP chunk-size [ SP end-marker ] CR LF`).
public struct BDATArgument: Hashable, Sendable {
    public var size: Int
    public var isLast: Bool

    public init(size: Int, isLast: Bool) {
        self.size = size
        self.isLast = isLast
    }

    /// Sizes above this are refused as `bdat-overflow` rather than trusted.
    public static let maximumSize = 1 << 40

    public init?(parsing argument: String) {
        let words = SMTPGrammar.words(argument)
        guard words.count == 1 || words.count == 2 else { return nil }
        guard let size = SMTPGrammar.parseDecimal(words[0], maximum: Self.maximumSize) else { return nil }
        if words.count == 2 {
            guard SMTPVerb.uppercased(words[1]) == "LAST" else { return nil }
        }
        self.init(size: size, isLast: words.count == 2)
    }
}
