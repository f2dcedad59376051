/// One `keyword[=value]` parameter of MAIL or RCPT.
///
///     SIZE=1024   BODY=8BITMIME   SMTPUTF8   RET=HDRS   ENVID=QQ314159   AUTH=<>
///     NOTIFY=SUCCESS,FAILURE   ORCPT=rfc822;bob@example.org
///
/// SeeAlso: RFC 5321 §4.1.2 (`esmtp-param`), RFC 1870 (SIZE), RFC 6152 (BODY), RFC 6531 (SMTPUTF8),
/// RFC 3461 (RET, ENVID, NOTIFY, ORCPT), RFC 4954 §5 (AUTH).
public struct ESMTPParameter: Hashable, Sendable {
    /// Upper case.
    public var keyword: String
    public var value: String?

    public init(keyword: String, value: String? = nil) {
        self.keyword = SMTPVerb.uppercased(keyword)
        self.value = value
    }

    public var description: String {
        value.map { "\(keyword)=\($0)" } ?? keyword
    }
}
