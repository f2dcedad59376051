import FuzzSupport
import SMTPCore

/// Reads the bytes the engine sent upstream the way a lenient server would (a line ends at LF;
/// a DATA body ends at the first line that is a lone `.`, whatever its line ends), and checks that
/// what the server would see is exactly what the engine logged:
/// - each command line is the next command the engine logged as forwarded (same verb), or the
///   proxy's own `RSET` after a refused BDAT chunk;
/// - each line and each DATA body line is canonical: CRLF only, no NUL, no bare CR or LF, so no
///   server can find an end of data or a line end the engine did not;
/// - a DATA body is entered only when the engine logged the server's 354 for that DATA, BDAT
///   chunks and XEXCH50 blobs are skipped by their size, and reading stops where the session
///   turns into a blind relay (STARTTLS passthrough, TURN/ATRN).
enum UpstreamReader {
    static func verify(_ outcome: Outcome, tlsMode: TLSMode) {
        var forwarded: [CommandRecord] = []
        var upstreamReplies: [String: [Int]] = [:]
        var internalResets = 0
        for kind in outcome.events {
            switch kind {
            case .command(let record):
                // Under `--tls terminate` with an upstream that offers no STARTTLS, the proxy
                // answers STARTTLS itself and logs it as `forward` by `--tls terminate`: nothing
                // goes upstream (InspectionEngine.handleCommandUnderTermination).
                let answeredByProxy = record.verb == "STARTTLS" && record.rule == "--tls terminate"
                if answeredByProxy {
                    continue
                } else if record.action == "forward" || record.action == "rewrite" || record.action.hasPrefix("would-") {
                    forwarded.append(record)
                } else if record.verb == "BDAT" && record.rule == "limits.max-message-size" {
                    internalResets += 1
                }
            case .reply(let record) where !record.local:
                if let verb = record.forVerb { upstreamReplies[verb, default: []].append(record.code) }
            default:
                break
            }
        }
        var replyIndex: [String: Int] = [:]
        func reply(to verb: String) -> Int? {
            let index = replyIndex[verb, default: 0]
            replyIndex[verb] = index + 1
            let codes = upstreamReplies[verb] ?? []
            return index < codes.count ? codes[index] : nil
        }

        let bytes = outcome.toServer
        var position = 0
        var next = 0
        /// The next complete line (LF included) from `position`, or nil.
        func readLine() -> ArraySlice<UInt8>? {
            guard let lf = bytes[position...].firstIndex(of: 0x0A) else { return nil }
            defer { position = lf + 1 }
            return bytes[position...lf]
        }
        func checkCanonical(_ line: ArraySlice<UInt8>, _ what: String) {
            let content = line.dropLast(2)
            Fuzz.check(line.count >= 2 && line[line.endIndex - 2] == 0x0D, "\(what) upstream ends in a bare LF: \(show(line))")
            Fuzz.check(!content.contains(0x0D) && !content.contains(0x00), "\(what) upstream holds a bare CR or NUL: \(show(line))")
        }

        while let line = readLine() {
            checkCanonical(line, "a command line")
            let command = Array(line.dropLast(2)).withUnsafeBytes { SMTPGrammar.parseCommandLine($0) }
            let logged: CommandRecord
            if next < forwarded.count, forwarded[next].verb == "AUTH-RESPONSE" || forwarded[next].verb == command.verb.name {
                logged = forwarded[next]
                next += 1
            } else if command == SMTPCommand(verb: .rset), internalResets > 0 {
                internalResets -= 1
                continue
            } else {
                Fuzz.check(false, "the server reads \(show(line)) as a command; the engine logged \(next < forwarded.count ? "\(forwarded[next])" : "nothing more") as forwarded")
                return
            }
            switch logged.verb {
            case "DATA":
                guard reply(to: "DATA") == 354 else { continue }
                while let bodyLine = readLine() {
                    checkCanonical(bodyLine, "a DATA body line")
                    if bodyLine.count == 3 && bodyLine.first == UInt8(ascii: ".") { break }
                }
            case "BDAT":
                if let chunk = BDATArgument(parsing: command.argument) {
                    position += min(chunk.size, bytes.count - position)
                }
            case "XEXCH50", "X-EXCH50":
                // Every XEXCH50 has its reply, whether or not its size parses: take it in order.
                let code = reply(to: logged.verb)
                let size = SMTPGrammar.words(command.argument).first.flatMap { SMTPGrammar.parseDecimal($0, maximum: BDATArgument.maximumSize) }
                if let size, code == 354 { position += min(size, bytes.count - position) }
            case "STARTTLS":
                if reply(to: "STARTTLS") == 220 && tlsMode != .terminate { return }
            case "TURN", "ATRN":
                if let code = reply(to: logged.verb), (200..<300).contains(code) { return }
            default:
                break
            }
        }
        if position == bytes.count {
            Fuzz.check(next == forwarded.count, "the engine logged \(forwarded.count - next) forwarded commands the server never got, first \(forwarded[next])")
        }
    }

    static func show(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(120), as: UTF8.self).debugDescription
    }
}
