// make-capture OUT.pcap SESSIONS MESSAGE_KIB: a large synthetic capture (each session: greeting,
// EHLO, pipelined MAIL/RCPT/DATA, a MESSAGE_KIB body, QUIT) for replay throughput measurements.
import Foundation
import IPAddressing
import PcapCapture

let arguments = CommandLine.arguments
guard arguments.count == 4, let sessions = Int(arguments[2]), let kib = Int(arguments[3]) else {
    print("usage: make-capture OUT.pcap SESSIONS MESSAGE_KIB")
    exit(2)
}
let writer = try PcapWriter.create(path: arguments[1])
let line = Array("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt\r\n".utf8)
var body: [UInt8] = []
while body.count < kib * 1024 { body += line }
var time = PacketTimestamp(seconds: 1_700_000_000)
let server = TCPEndpoint(address: IPAddress("192.0.2.25")!, port: 25)
for session in 0..<sessions {
    let client = TCPEndpoint(address: IPAddress(ipv4: 0x0A00_0000 | UInt32(session % 65_000 + 1)), port: UInt16(1024 + session % 60_000))
    var tcp = TCPStreamSynthesizer(client: client, server: server, clientInitialSequence: UInt32(truncatingIfNeeded: session &* 2_654_435_761))
    func emit(_ frames: [SynthesizedFrame]) throws {
        for frame in frames { try writer.write(frame) }
        time = time.advanced(byNanoseconds: 1_000)
    }
    try emit(tcp.open(at: time))
    try emit(tcp.send(from: .server, Array("220 mx.example.org ESMTP\r\n".utf8), at: time))
    try emit(tcp.send(from: .client, Array("EHLO client.example.org\r\n".utf8), at: time))
    try emit(tcp.send(from: .server, Array("250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n".utf8), at: time))
    try emit(tcp.send(from: .client, Array("MAIL FROM:<a\(session)@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n".utf8), at: time))
    try emit(tcp.send(from: .server, Array("250 OK\r\n250 OK\r\n354 go ahead\r\n".utf8), at: time))
    try emit(tcp.send(from: .client, Array("Subject: test \(session)\r\nMessage-ID: <\(session)@x>\r\n\r\n".utf8) + body + Array(".\r\n".utf8), at: time))
    try emit(tcp.send(from: .server, Array("250 queued as \(session)\r\n".utf8), at: time))
    try emit(tcp.send(from: .client, Array("QUIT\r\n".utf8), at: time))
    try emit(tcp.send(from: .server, Array("221 bye\r\n".utf8), at: time))
    try emit(tcp.close(from: .client, at: time))
    try emit(tcp.close(from: .server, at: time))
}
try writer.close()
