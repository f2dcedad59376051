/// One entry of a rule's `reply-code:` key: a reply code or a class of codes.
///
///     reply-code: 550            → .code(550)
///     reply-code: [421, "5xx"]   → [.code(421), .codeClass(5)]
public enum ReplyCodePattern: Hashable, Sendable, CustomStringConvertible {
    case code(Int)
    /// `2xx` … `5xx`.
    case codeClass(Int)

    /// Parses `250`, `"5xx"`, `"4XX"`. Codes are 200…599 (RFC 5321 §4.2: 1yz is not used in SMTP).
    public init(parsing text: String) throws(FilterError) {
        let bytes = Array(text.utf8)
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        if bytes.count == 3, bytes.allSatisfy(isDigit), let code = Int(text), (200...599).contains(code) {
            self = .code(code)
        } else if bytes.count == 3, (0x32...0x35).contains(bytes[0]), bytes[1] | 0x20 == 0x78, bytes[2] | 0x20 == 0x78 {
            self = .codeClass(Int(bytes[0] - 0x30))
        } else {
            throw FilterError("'\(text)' is not a reply code (200…599) or a class of codes (2xx…5xx)")
        }
    }

    public func matches(_ code: Int) -> Bool {
        switch self {
        case .code(let expected): code == expected
        case .codeClass(let codeClass): (200...599).contains(code) && code / 100 == codeClass
        }
    }

    public var description: String {
        switch self {
        case .code(let code): String(code)
        case .codeClass(let codeClass): "\(codeClass)xx"
        }
    }
}
