import struct NIOCore.ByteBuffer

/// Frames a DATA body as it streams through, deciding where it ends and what the upstream gets.
///
/// The only end of data is `CRLF . CRLF` (RFC 5321 §4.1.1.4); the body starts at a line start.
/// Canonical lines are forwarded byte for byte as zero-copy slices of the input, dot-stuffing
/// included. Everything a receiver could read differently — a bare LF or CR, a NUL, a lone `.` line
/// that is not a real end of data (`<LF>.<LF>`, `<LF>.<CR><LF>`, `<CR><LF>.<LF>`, `<CR>.<CR>`…, see
/// THREATS.md) — is reported and, under `normalize`, forwarded re-framed: bare line ends as CRLF, NUL
/// as a space, a lone `.` as `..`. The upstream can then find no end of data but the one the proxy
/// found. Under `reject` the first such byte stops the scan.
///
/// At most two bytes (`.` and `CR` at a line start, or a trailing CR) are held back between calls,
/// because what they mean depends on the next byte. Memory does not depend on line or body length.
public struct DataBodyScanner: Sendable {
    /// How a line ended, for the report of a smuggling sequence.
    public enum LineEnd: String, Sendable {
        case crlf = "<CR><LF>"
        case lf = "<LF>"
        case cr = "<CR>"
    }

    public enum Violation: Hashable, Sendable {
        case bareLF
        case bareCR
        case nul
        /// A line consisting of `.` with a non-standard line end before or after it.
        case smuggling(before: String, after: String)
    }

    public enum Outcome: Hashable, Sendable {
        case needMore
        /// The final `.CRLF` was read and forwarded; the input is positioned after it.
        case endOfData
        case rejected(Violation)
    }

    public let policy: BareNewlinePolicy
    /// Octets handed to `emit` so far.
    public private(set) var emittedBytes = 0
    /// Octets of message content forwarded (the final `.CRLF` excluded), once `.endOfData` was returned.
    public var messageSize: Int { finished ? emittedBytes - 3 : emittedBytes }

    private enum Held { case none, cr, dot, dotCR }
    private var held = Held.none
    private var lineStart = true
    private var previousEnd = LineEnd.crlf
    private var finished = false

    public init(policy: BareNewlinePolicy) {
        self.policy = policy
    }

    /// `(w - belowCRMask) & ~w & highBits` is non-zero when an octet of `w` is below 0x0E
    /// (`SMTPGrammar.cr + 1`), so a word without one cannot hold a CR, LF or NUL.
    static let belowCRMask: UInt64 = 0x0E0E_0E0E_0E0E_0E0E
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each octet of `word` below 0x0E, and possibly of octets above the first.
    @inline(__always)
    static func flags(_ word: UInt64) -> UInt64 {
        (word &- belowCRMask) & ~word & highBits
    }

    /// CR, LF and NUL end a run of plain line content.
    @inline(__always)
    static func endsRun(_ byte: UInt8) -> Bool {
        byte <= SMTPGrammar.cr && (byte == SMTPGrammar.cr || byte == SMTPGrammar.lf || byte == SMTPGrammar.nul)
    }

    static let crlf = ByteBuffer(string: "\r\n")
    static let space = ByteBuffer(string: " ")
    static let dot = ByteBuffer(string: ".")
    static let dotCRLF = ByteBuffer(string: ".\r\n")
    static let stuffedLoneDot = ByteBuffer(string: "..\r\n")

    /// Consumes body bytes from `input`, handing what goes upstream to `emit` in order, and each
    /// violation to `report`, in stream order: the bytes before a violation are emitted before it
    /// is reported, whatever the segmentation. Stops right after the end of data.
    public mutating func scan(
        _ input: inout ByteBuffer,
        emit: (ByteBuffer) -> Void,
        report: (Violation) -> Void
    ) -> Outcome {
        precondition(!finished, "scan after end of data")
        let source = input
        let base = source.readerIndex
        let reject = policy == .reject
        let (consumed, outcome) = source.withUnsafeReadableBytes { p -> (Int, Outcome) in
            let end = p.count
            var i = 0
            var runStart = 0
            func flush(_ upTo: Int) {
                if upTo > runStart {
                    emittedBytes += upTo - runStart
                    emit(source.getSlice(at: base + runStart, length: upTo - runStart)!)
                }
            }
            func synthesize(_ bytes: ByteBuffer) {
                emittedBytes += bytes.readableBytes
                emit(bytes)
            }
            func newLine(after lineEnd: LineEnd) {
                lineStart = true
                previousEnd = lineEnd
            }
            while i < end {
                // Only the first octets of a call can meet a held `.`/CR: one compare per line.
                if held != .none {
                    switch held {
                    case .none:
                        break
                    case .cr:
                        held = .none
                        if p[i] == SMTPGrammar.lf {
                            synthesize(Self.crlf)
                            i += 1
                            runStart = i
                            newLine(after: .crlf)
                        } else {
                            report(.bareCR)
                            if reject { flush(i); return (i, .rejected(.bareCR)) }
                            synthesize(Self.crlf)
                            runStart = i
                            newLine(after: .cr)
                        }
                        continue
                    case .dot:
                        if p[i] == SMTPGrammar.cr {
                            held = .dotCR
                            i += 1
                            runStart = i
                            continue
                        }
                        held = .none
                        if p[i] == SMTPGrammar.lf {
                            let violation = Violation.smuggling(before: previousEnd.rawValue, after: LineEnd.lf.rawValue)
                            report(.bareLF)
                            report(violation)
                            if reject { flush(i); return (i, .rejected(.bareLF)) }
                            synthesize(Self.stuffedLoneDot)
                            i += 1
                            runStart = i
                            newLine(after: .lf)
                        } else {
                            synthesize(Self.dot)
                            runStart = i
                        }
                        continue
                    case .dotCR:
                        held = .none
                        if p[i] == SMTPGrammar.lf {
                            i += 1
                            if previousEnd == .crlf {
                                synthesize(Self.dotCRLF)
                                finished = true
                                return (i, .endOfData)
                            }
                            let violation = Violation.smuggling(before: previousEnd.rawValue, after: LineEnd.crlf.rawValue)
                            report(violation)
                            if reject { return (i, .rejected(violation)) }  // unreachable: the bare line end before was rejected
                            synthesize(Self.stuffedLoneDot)
                            runStart = i
                            newLine(after: .crlf)
                        } else {
                            report(.bareCR)
                            report(.smuggling(before: previousEnd.rawValue, after: LineEnd.cr.rawValue))
                            if reject { flush(i); return (i, .rejected(.bareCR)) }
                            synthesize(Self.stuffedLoneDot)
                            runStart = i
                            newLine(after: .cr)
                        }
                        continue
                    }
                }
                if lineStart {
                    lineStart = false
                    if p[i] == SMTPGrammar.dot {
                        if i + 1 == end {
                            flush(i)
                            held = .dot
                            i += 1
                            runStart = i
                            continue
                        }
                        let next = p[i + 1]
                        if next == SMTPGrammar.cr {
                            if i + 2 == end {
                                flush(i)
                                held = .dotCR
                                i += 2
                                runStart = i
                                continue
                            }
                            if p[i + 2] == SMTPGrammar.lf {
                                if previousEnd == .crlf {
                                    flush(i + 3)
                                    finished = true
                                    return (i + 3, .endOfData)
                                }
                                let violation = Violation.smuggling(before: previousEnd.rawValue, after: LineEnd.crlf.rawValue)
                                flush(i)
                                report(violation)
                                if reject { return (i, .rejected(violation)) }
                                synthesize(Self.dot)
                                runStart = i
                                i += 3
                                newLine(after: .crlf)
                                continue
                            }
                            flush(i)
                            report(.bareCR)
                            report(.smuggling(before: previousEnd.rawValue, after: LineEnd.cr.rawValue))
                            if reject { return (i, .rejected(.bareCR)) }
                            synthesize(Self.stuffedLoneDot)
                            i += 2
                            runStart = i
                            newLine(after: .cr)
                            continue
                        }
                        if next == SMTPGrammar.lf {
                            flush(i)
                            report(.bareLF)
                            report(.smuggling(before: previousEnd.rawValue, after: LineEnd.lf.rawValue))
                            if reject { return (i, .rejected(.bareLF)) }
                            synthesize(Self.stuffedLoneDot)
                            i += 2
                            runStart = i
                            newLine(after: .lf)
                            continue
                        }
                        i += 1
                    }
                }
                // Inside a line: skip to the next CR, LF or NUL, eight octets at a time. The word
                // test flags octets below 0x0E; its lowest flag is exact (a borrow only runs upwards
                // from a real match), so `i` jumps straight to the first such octet, and only a TAB,
                // VT or FF there (below 0x0E, but inside the line) resumes the scan after it.
                skip: while i < end {
                    while i + 32 <= end {  // four words per round: one branch per 32 octets
                        let w0 = Self.flags(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                        let w1 = Self.flags(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)))
                        let w2 = Self.flags(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)))
                        let w3 = Self.flags(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)))
                        if (w0 | w1) | (w2 | w3) != 0 {
                            if w0 != 0 {
                                i += w0.trailingZeroBitCount &>> 3
                            } else if w1 != 0 {
                                i += 8 &+ w1.trailingZeroBitCount &>> 3
                            } else if w2 != 0 {
                                i += 16 &+ w2.trailingZeroBitCount &>> 3
                            } else {
                                i += 24 &+ w3.trailingZeroBitCount &>> 3
                            }
                            if Self.endsRun(p[i]) { break skip }
                            i += 1
                            continue skip
                        }
                        i += 32
                    }
                    while i + 8 <= end {
                        let flags = Self.flags(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                        if flags != 0 {
                            i += flags.trailingZeroBitCount &>> 3
                            if Self.endsRun(p[i]) { break skip }
                            i += 1
                            continue skip
                        }
                        i += 8
                    }
                    while i < end {
                        if Self.endsRun(p[i]) { break skip }
                        i += 1
                    }
                }
                if i == end { break }
                switch p[i] {
                case SMTPGrammar.nul:
                    flush(i)
                    report(.nul)
                    if reject { return (i, .rejected(.nul)) }
                    synthesize(Self.space)
                    i += 1
                    runStart = i
                case SMTPGrammar.lf:
                    flush(i)
                    report(.bareLF)
                    if reject { return (i, .rejected(.bareLF)) }
                    synthesize(Self.crlf)
                    i += 1
                    runStart = i
                    newLine(after: .lf)
                default:  // CR
                    if i + 1 == end {
                        flush(i)
                        held = .cr
                        i += 1
                        runStart = i
                    } else if p[i + 1] == SMTPGrammar.lf {
                        i += 2
                        newLine(after: .crlf)
                    } else {
                        flush(i)
                        report(.bareCR)
                        if reject { return (i, .rejected(.bareCR)) }
                        synthesize(Self.crlf)
                        i += 1
                        runStart = i
                        newLine(after: .cr)
                    }
                }
            }
            flush(end)
            return (end, .needMore)
        }
        input.moveReaderIndex(forwardBy: consumed)
        return outcome
    }
}
