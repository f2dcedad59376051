// The server-stream parser: ReplyParser cuts the server's bytes into replies.
//
// Input: byte 0 picks the length and line limits and the split pattern, the rest is the server
// stream. Invariants: the items are the same whether the stream arrives whole or in small pieces;
// the octets held between calls stay bounded; a reply's canonical encoding reads back as the same
// reply. An overlong item ends the comparison: where the parser gives up on a reply depends on
// how much had arrived, and it resumes mid-line.
import FuzzSupport
import NIOCore
import SMTPCore

enum ItemRecord: Equatable {
    case reply(code: Int, lines: [String], raw: [UInt8]?, bareLF: Bool)
    case malformed(line: String, raw: [UInt8])
    case overlong(Int)
}

func items(of pieces: [ArraySlice<UInt8>], length: Int, lines: Int) -> (items: [ItemRecord], tail: Int) {
    var parser = ReplyParser(maximumReplyLength: length, maximumLines: lines)
    var buffer = ByteBufferAllocator().buffer(capacity: 0)
    var records: [ItemRecord] = []
    for piece in pieces {
        buffer.writeBytes(piece)
        while let item = parser.next(from: &buffer) {
            switch item {
            case .reply(let reply, let bareLF):
                Fuzz.check(!reply.lines.isEmpty && reply.lines.count <= lines, "\(reply.lines.count) lines, limit \(lines)")
                Fuzz.check((reply.raw == nil) == bareLF, "raw kept iff no bare LF")
                Fuzz.check(reply.lines.allSatisfy { !$0.utf8.contains(0x0A) }, "a line of text holds an LF")
                let raw = reply.raw.map(Fuzz.bytes)
                let encoded = Fuzz.bytes(reply.encoded)
                let again = readsBack(encoded)
                Fuzz.check(again == [.reply(code: reply.code, lines: reply.lines, raw: encoded, bareLF: false)],
                           "encoded reply \(String(decoding: encoded, as: UTF8.self).debugDescription) reads back as \(again)")
                records.append(.reply(code: reply.code, lines: reply.lines, raw: raw, bareLF: bareLF))
            case .malformed(let line, let raw):
                let bytes = Fuzz.bytes(raw)
                Fuzz.check(bytes.last == 0x0A && bytes.dropLast().firstIndex(of: 0x0A) == nil, "malformed item is one line")
                records.append(.malformed(line: line, raw: bytes))
            case .overlong(let count):
                Fuzz.check(count > 0, "empty overlong item")
                records.append(.overlong(count))
            }
        }
        Fuzz.check(buffer.readableBytes < length + piece.count, "\(buffer.readableBytes) octets held, limit \(length)")
    }
    return (records, buffer.readableBytes)
}

/// The items a fresh parser with the default limits makes of `bytes`.
func readsBack(_ bytes: [UInt8]) -> [ItemRecord] {
    var parser = ReplyParser()
    var buffer = Fuzz.buffer(bytes)
    var records: [ItemRecord] = []
    while let item = parser.next(from: &buffer) {
        switch item {
        case .reply(let reply, let bareLF):
            records.append(.reply(code: reply.code, lines: reply.lines, raw: reply.raw.map(Fuzz.bytes), bareLF: bareLF))
        case .malformed(let line, let raw): records.append(.malformed(line: line, raw: Fuzz.bytes(raw)))
        case .overlong(let count): records.append(.overlong(count))
        }
    }
    if buffer.readableBytes > 0 { records.append(.overlong(-buffer.readableBytes)) }
    return records
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReplyParser(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let data = Array(UnsafeRawBufferPointer(start: start, count: count))
    let control = data[0]
    let lengths = [8, 64, 512, SMTPDefaults.maximumReplyLength]
    let lineLimits = [1, 2, 3, 1024]
    let length = lengths[Int(control & 0x03)]
    let lines = lineLimits[Int((control >> 2) & 0x03)]
    let stream = data[1...]
    let whole = items(of: [stream], length: length, lines: lines)
    let split = items(of: Fuzz.pieces(of: stream, seed: control >> 4), length: length, lines: lines)
    let wholeOverlong = whole.items.firstIndex { if case .overlong = $0 { true } else { false } }
    let splitOverlong = split.items.firstIndex { if case .overlong = $0 { true } else { false } }
    if wholeOverlong == nil && splitOverlong == nil {
        Fuzz.check(whole.items == split.items, "items differ between a whole and a split stream")
        Fuzz.check(whole.tail == split.tail, "unfinished tail \(whole.tail) vs \(split.tail)")
    } else {
        let common = min(wholeOverlong ?? whole.items.count, splitOverlong ?? split.items.count)
        Fuzz.check(whole.items.prefix(common) == split.items.prefix(common), "items before an overlong one differ")
    }
    return 0
}

/// The entry point SwiftPM links a debug executable with (`main` is aliased to it).
@_cdecl("FuzzReplyParser_main")
public func fuzzReplyParserMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    Fuzz.runDriver(argc, argv) { data, size in fuzzReplyParser(UnsafeRawPointer(data!), size) }
}
