import Foundation
import Testing

// The differential tests' model, generator and judge: byte sequences around line ends and end of
// data (THREATS.md), what the proxy must forward for them, and what Postfix's Maildir shows.

/// Exact bytes, readable: printable ASCII as is, everything else escaped (`\r`, `\n`, `\0`, `\x0B`).
func escapedBytes<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var text = ""
    for byte in bytes {
        switch byte {
        case 0x0D: text += "\\r"
        case 0x0A: text += "\\n"
        case 0x00: text += "\\0"
        case 0x09: text += "\\t"
        case 0x5C: text += "\\\\"
        case 0x20...0x7E: text.unicodeScalars.append(UnicodeScalar(byte))
        default: text += String(format: "\\x%02X", byte)
        }
    }
    return text
}

/// What the proxy forwards of a DATA body (SPEC §4, docs/protocol-safety.md), written
/// as plainly as possible and independently of the streaming `DataBodyScanner`: the only end of
/// data is `CRLF . CRLF` (the body starts as if after a CRLF); every line end (CRLF, bare LF,
/// bare CR) is forwarded as CRLF, NUL as a space, a lone `.` that is not the end as `..`;
/// everything else as it came, dot-stuffing included.
enum DataFramingModel {
    private enum LineEnd { case crlf, lf, cr }

    /// The octets forwarded before the end of data (its `.CRLF` excluded), and the input offset
    /// right after the end of data; nil when `input` holds no end of data.
    static func forwarded(_ input: [UInt8]) -> (bytes: [UInt8], end: Int)? {
        var out: [UInt8] = []
        var previous = LineEnd.crlf
        var index = 0
        while index < input.count {
            var stop = index
            while stop < input.count && input[stop] != 0x0D && input[stop] != 0x0A { stop += 1 }
            guard stop < input.count else { return nil }
            let content = input[index..<stop]
            var end = LineEnd.lf
            var next = stop + 1
            if input[stop] == 0x0D {
                guard stop + 1 < input.count else { return nil }  // a final CR: its meaning depends on bytes that never came
                if input[stop + 1] == 0x0A {
                    (end, next) = (.crlf, stop + 2)
                } else {
                    end = .cr
                }
            }
            if content.elementsEqual([0x2E]) {
                if end == .crlf && previous == .crlf { return (out, next) }
                out += [0x2E, 0x2E, 0x0D, 0x0A]
            } else {
                out += content.map { $0 == 0 ? 0x20 : $0 }
                out += [0x0D, 0x0A]
            }
            previous = end
            index = next
        }
        return nil
    }

    /// Whether `bytes` hold only CRLF line ends and no NUL (what `bare-newline: reject` lets by).
    static func isCanonical(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch bytes[index] {
            case 0x00, 0x0A: return false
            case 0x0D:
                guard index + 1 < bytes.endIndex, bytes[index + 1] == 0x0A else { return false }
                index += 2
                continue
            default: break
            }
            index += 1
        }
        return true
    }

    /// The forwarded octets as a receiver stores them: a leading dot removed from each line
    /// (RFC 5321 §4.5.2), LF line ends (Maildir).
    static func stored(_ forwarded: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for line in forwarded.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            var content = line.last == 0x0D ? line.dropLast() : line
            if content.first == 0x2E { content = content.dropFirst() }
            out += content
            out.append(0x0A)
        }
        return out
    }

    /// A stored message as it went over the wire: CRLF line ends, leading dots stuffed.
    static func wire(_ stored: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for line in stored.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            if line.first == 0x2E { out.append(0x2E) }
            out += line
            out += [0x0D, 0x0A]
        }
        return out
    }
}

/// One message as Postfix delivered it to the Maildir: envelope from the headers its delivery
/// agent prepends, content from the first header of the test's own (`X-Diff:`).
struct DeliveredMessage {
    var file: String
    var sender: String
    var recipient: String
    /// The content as stored, from the `X-Diff:` line on; nil when that line is missing.
    var content: [UInt8]?

    static let marker = Array("X-Diff: ".utf8)

    init?(file: String, bytes: Data) {
        let all = [UInt8](bytes)
        self.file = file
        func header(_ name: String) -> String? {
            let prefix = Array("\n\(name): ".utf8)
            let text = [0x0A] + all
            guard let range = text.firstRange(of: prefix) else { return nil }
            let rest = text[range.upperBound...]
            return String(decoding: rest.prefix { $0 != 0x0A }, as: UTF8.self)
        }
        guard let path = header("Return-Path") else { return nil }
        sender = path.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        recipient = header("Delivered-To") ?? ""
        let text = [0x0A] + all
        content = text.firstRange(of: [0x0A] + Self.marker).map { Array(text[($0.lowerBound + 1)...]) }
    }
}

extension PostfixInstance {
    /// Every delivered message, parsed.
    func deliveredMessagesParsed() -> [DeliveredMessage] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []
        return files.sorted().compactMap { name in
            FileManager.default.contents(atPath: "\(maildir)/\(name)").flatMap { DeliveredMessage(file: name, bytes: $0) }
        }
    }

    /// Whether Postfix's queues hold no message (everything received has been delivered).
    var queuesAreEmpty: Bool {
        for queue in ["incoming", "active", "deferred", "hold", "maildrop"] {
            let root = directory + "/queue/" + queue
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = walker.nextObject() as? String {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                    return false
                }
            }
        }
        return true
    }
}

/// A message the proxy's audit log says it forwarded and its upstream answered.
struct LoggedMessage {
    var sender: String
    var recipients: [String]
    var size: Int
    var result: Int?

    init(_ event: [String: Any]) {
        sender = ((event["mail_from"] as? String) ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        recipients = ((event["rcpt_to"] as? [String]) ?? []).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) }
        size = (event["size"] as? Int) ?? -1
        result = event["result"] as? Int
    }
}

/// Runs `count` jobs on `threads` real threads (blocking sockets stay off the cooperative pool);
/// returns the failures, in job order.
func runOnThreads(_ count: Int, threads: Int, _ job: @escaping @Sendable (Int) throws -> Void) -> [String] {
    let workers = (0..<threads).map { worker in
        BackgroundThread { () -> [(Int, String)] in
            var failures: [(Int, String)] = []
            for index in stride(from: worker, to: count, by: threads) {
                do { try job(index) } catch { failures.append((index, "\(error)")) }
            }
            return failures
        }
    }
    return workers.flatMap { (try? $0.value()) ?? [] }.sorted { $0.0 < $1.0 }.map { "#\($0.0): \($0.1)" }
}
