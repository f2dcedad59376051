/// The address of a MAIL FROM / RCPT TO argument: `FROM:<alice@example.net> SIZE=37` →
/// `alice@example.net`; the null sender `<>` → `<>`.
enum EnvelopeAddress {
    static func parse(_ argument: String) -> String? {
        guard let colon = argument.firstIndex(of: ":") else { return nil }
        let rest = argument[argument.index(after: colon)...].drop(while: { $0 == " " })
        if rest.hasPrefix("<") {
            guard let close = rest.firstIndex(of: ">") else { return nil }
            let address = rest[rest.index(after: rest.startIndex)..<close]
            return address.isEmpty ? "<>" : String(address)
        }
        let address = rest.prefix(while: { $0 != " " })
        return address.isEmpty ? nil : String(address)
    }
}
