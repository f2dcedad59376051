import NIOCore
import SMTPCore
import Testing

@Suite struct HeaderSnifferTests {
    static func sniff(_ text: String, pieceSize: Int) -> HeaderSniffer {
        var sniffer = HeaderSniffer()
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let piece = Array(bytes[index..<min(bytes.count, index + pieceSize)])
            piece.withUnsafeBytes { sniffer.feed($0) }
            index += pieceSize
        }
        sniffer.finishMessage()
        return sniffer
    }

    @Test(arguments: [1, 3, 1000])
    func findsValuesFoldedOrNot(pieceSize: Int) {
        let text = "From: a@b\r\nsubject: Quarterly\r\n\treport\r\nMESSAGE-ID:  <42@example.org> \r\nX: y\r\n\r\nSubject: not a header\r\n"
        let sniffer = Self.sniff(text, pieceSize: pieceSize)
        #expect(sniffer.subject == "Quarterly\treport")
        #expect(sniffer.messageID == "<42@example.org>")
        #expect(sniffer.isDone)
    }

    @Test func valuesAreBounded() {
        let sniffer = Self.sniff("Subject: " + String(repeating: "x", count: 100_000) + "\r\n\r\n", pieceSize: 4096)
        #expect(sniffer.subject?.utf8.count == SMTPDefaults.maximumHeaderValueLength)
    }
}
