/// A minimal upstream for pure engine tests: answers every command line the engine forwards
/// (`354` to DATA, then `250` at the end of data, `221` to QUIT, `250` to anything else), so that
/// a test can feed the engine's output straight back as the server's input.
struct ScriptedUpstream {
    private var line: [UInt8] = []
    private var inData = false
    private var tail: [UInt8] = []

    /// The replies owed for `bytes` (what the engine just forwarded).
    mutating func replies(to bytes: [UInt8]) -> String {
        var out = ""
        for octet in bytes {
            if inData {
                tail.append(octet)
                if tail.count > 5 { tail.removeFirst() }
                if tail == Array("\r\n.\r\n".utf8) {
                    inData = false
                    tail = []
                    out += "250 2.0.0 queued\r\n"
                }
                continue
            }
            line.append(octet)
            guard octet == UInt8(ascii: "\n") else { continue }
            let text = String(decoding: line, as: UTF8.self).uppercased()
            line = []
            if text.hasPrefix("DATA") {
                inData = true
                tail = Array("\r\n".utf8)
                out += "354 go ahead\r\n"
            } else if text.hasPrefix("QUIT") {
                out += "221 2.0.0 Bye\r\n"
            } else if text.hasPrefix("EHLO") {
                out += "250-mx.example\r\n250 PIPELINING\r\n"
            } else {
                out += "250 2.0.0 Ok\r\n"
            }
        }
        return out
    }
}
