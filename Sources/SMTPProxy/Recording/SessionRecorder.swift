import IPAddressing
import NIOCore
import PcapCapture
import SMTPCore

/// Records one session's client leg into the shared capture file: what the client sent (as the
/// engine consumed it, AUTH secrets redacted) and what it received (the server's replies as
/// relayed, rejections and rewrites included), on a synthesized TCP connection between the real
/// client and server addresses. `smtp-inspect replay` reads it back to the same commands and
/// replies as the live log.
struct SessionRecorder {
    private let file: CaptureFile
    private var tcp: TCPStreamSynthesizer

    init(file: CaptureFile, client: Endpoint, server: Endpoint, at time: SMTPTimestamp) {
        self.file = file
        tcp = TCPStreamSynthesizer(client: Self.tcpEndpoint(client), server: Self.tcpEndpoint(server))
        file.write(tcp.open(at: Self.timestamp(time)))
    }

    /// Records one action of the engine, in the session's order: the client's bytes as the
    /// engine consumed them (`transcribe`) and the bytes the client received (`writeToClient`).
    mutating func record(_ action: SessionAction, at time: SMTPTimestamp) {
        let frames: [SynthesizedFrame]
        switch action {
        case .transcribe(let bytes): frames = tcp.send(from: .client, Array(bytes.readableBytesView), at: Self.timestamp(time))
        case .writeToClient(let bytes): frames = tcp.send(from: .server, Array(bytes.readableBytesView), at: Self.timestamp(time))
        default: return
        }
        file.write(frames)
    }

    mutating func close(at time: SMTPTimestamp) {
        let stamp = Self.timestamp(time)
        file.write(tcp.close(from: .client, at: stamp) + tcp.close(from: .server, at: stamp))
        file.flush()
    }

    static func timestamp(_ time: SMTPTimestamp) -> PacketTimestamp {
        PacketTimestamp(seconds: time.seconds, nanoseconds: time.nanoseconds)
    }

    /// Numeric addresses as they are; anything else (a host name, "unknown") as TEST-NET-1.
    static func tcpEndpoint(_ endpoint: Endpoint) -> TCPEndpoint {
        TCPEndpoint(address: endpoint.address ?? IPAddress(ipv4: 0xC000_0200), port: UInt16(clamping: endpoint.port))
    }
}
