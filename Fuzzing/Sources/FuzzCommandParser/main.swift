// The client-stream parser: CommandLineFramer cuts lines, SMTPGrammar.parseCommandLine reads each.
//
// Input: byte 0 picks the line limit and the split pattern, the rest is the client stream.
// Invariants: every byte is accounted for (lines + dropped overlong + unfinished tail), no line is
// longer than the limit, each line ends at its first LF, and the frames (and commands) are the
// same whether the stream arrives whole or cut into small pieces.
import FuzzSupport
import NIOCore
import SMTPCore

/// What a frame said, comparable between runs.
enum FrameRecord: Equatable {
    case line(raw: [UInt8], contentLength: Int, crlf: Bool, bareCR: Bool, nul: Bool, verb: String, argument: String)
    case overlong(Int)
}

func frames(of pieces: [ArraySlice<UInt8>], maximumLength: Int) -> (frames: [FrameRecord], tail: Int) {
    var framer = CommandLineFramer(maximumLength: maximumLength)
    var buffer = ByteBufferAllocator().buffer(capacity: 0)
    var records: [FrameRecord] = []
    for piece in pieces {
        buffer.writeBytes(piece)
        while let frame = framer.next(from: &buffer) {
            switch frame {
            case .overlong(let length):
                records.append(.overlong(length))
            case .line(let line):
                let raw = Fuzz.bytes(line.raw)
                Fuzz.check(raw.count <= maximumLength, "line of \(raw.count) octets over the limit \(maximumLength)")
                Fuzz.check(raw.last == 0x0A && raw.dropLast().firstIndex(of: 0x0A) == nil, "a line must end at its first LF")
                let crlf = line.terminator == .crlf
                Fuzz.check(line.contentLength == raw.count - (crlf ? 2 : 1), "content length \(line.contentLength) of \(raw.count)")
                Fuzz.check(crlf == (raw.count >= 2 && raw[raw.count - 2] == 0x0D), "terminator")
                let content = raw.prefix(line.contentLength)
                Fuzz.check(line.containsBareCR == content.contains(0x0D), "bare CR flag")
                Fuzz.check(line.containsNUL == content.contains(0x00), "NUL flag")
                let command = SMTPGrammar.parseCommandLine(line.content)
                check(command)
                records.append(.line(
                    raw: raw, contentLength: line.contentLength, crlf: crlf, bareCR: line.containsBareCR,
                    nul: line.containsNUL, verb: command.verb.name, argument: command.argument))
            }
        }
        Fuzz.check(buffer.readableBytes < maximumLength, "\(buffer.readableBytes) octets held, limit \(maximumLength)")
    }
    return (records, buffer.readableBytes)
}

/// A parsed command reads back as itself, and its canonical argument is a fixed point.
func check(_ command: SMTPCommand) {
    let argument = command.argument
    Fuzz.check(argument.utf8.first.map { $0 != 0x20 && $0 != 0x09 } ?? true, "argument starts with a blank")
    Fuzz.check(argument.utf8.last.map { $0 != 0x20 && $0 != 0x09 } ?? true, "argument ends with a blank")
    let again = Array(command.line.utf8).withUnsafeBytes { SMTPGrammar.parseCommandLine($0) }
    Fuzz.check(again == command, "'\(command.line)' reads back as \(again), not \(command)")
    let canonical = command.canonicalArgument
    let recanonical = SMTPCommand(verb: command.verb, argument: canonical).canonicalArgument
    Fuzz.check(recanonical == canonical, "canonical argument '\(canonical)' becomes '\(recanonical)'")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandParser(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let data = Array(UnsafeRawBufferPointer(start: start, count: count))
    let control = data[0]
    let limits = [2, 3, 8, 32, 512, 1000, 4096]
    let maximumLength = limits[Int(control & 0x07) % limits.count]
    let stream = data[1...]

    let whole = frames(of: [stream], maximumLength: maximumLength)
    let split = frames(of: Fuzz.pieces(of: stream, seed: control >> 3), maximumLength: maximumLength)
    Fuzz.check(whole.frames == split.frames, "frames differ between a whole and a split stream")
    Fuzz.check(whole.tail == split.tail, "unfinished tail \(whole.tail) vs \(split.tail)")

    var accounted = whole.tail
    for frame in whole.frames {
        switch frame {
        case .line(let raw, _, _, _, _, _, _): accounted += raw.count
        case .overlong(let length):
            Fuzz.check(length >= maximumLength, "overlong frame of \(length) octets under the limit \(maximumLength)")
            accounted += length
        }
    }
    // An overlong line being dropped is not yet a frame: its octets are neither lines nor tail.
    if accounted != stream.count {
        var framer = CommandLineFramer(maximumLength: maximumLength)
        var buffer = Fuzz.buffer(stream)
        while framer.next(from: &buffer) != nil {}
        Fuzz.check(framer.isMidLine, "\(stream.count - accounted) octets lost outside an overlong line")
    }
    return 0
}

/// The entry point SwiftPM links a debug executable with (`main` is aliased to it).
@_cdecl("FuzzCommandParser_main")
public func fuzzCommandParserMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    Fuzz.runDriver(argc, argv) { data, size in fuzzCommandParser(UnsafeRawPointer(data!), size) }
}
