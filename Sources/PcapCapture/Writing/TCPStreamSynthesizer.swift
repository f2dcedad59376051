import IPAddressing

/// Makes Ethernet/IP/TCP frames for a conversation known only as byte streams (the proxy's
/// `--record`, tests), so that the pcap opens in Wireshark/tshark as one ordinary TCP stream.
///
///     var tcp = TCPStreamSynthesizer(client: client, server: server)
///     var frames = tcp.open(at: t0)                                       // SYN, SYN-ACK, ACK
///     frames += tcp.send(from: .server, Array("220 mx ESMTP\r\n".utf8), at: t1)
///     frames += tcp.send(from: .client, Array("QUIT\r\n".utf8), at: t2)
///     frames += tcp.close(from: .client, at: t3)                          // FIN, ACK
///     frames += tcp.close(from: .server, at: t3)
///     for frame in frames { try writer.write(frame) }
///
/// Sequence and acknowledgment numbers are tracked per direction (wrapping modulo 2^32), data is
/// cut into segments of at most `maximumSegmentSize` octets, every data burst is acknowledged by
/// the peer, and IPv4 header and TCP checksums are correct. Addresses of different families are
/// written as IPv6, the IPv4 one as `::ffff:a.b.c.d`. The MAC addresses are fixed, locally
/// administered ones (`02:00:00:00:00:01` client, `…:02` server).
public struct TCPStreamSynthesizer: Sendable {
    public enum Sender: Hashable, Sendable {
        case client
        case server
    }

    public let client: TCPEndpoint
    public let server: TCPEndpoint
    public let maximumSegmentSize: Int

    /// The next sequence number each side sends.
    public private(set) var clientSequence: UInt32
    public private(set) var serverSequence: UInt32
    private var clientIPID: UInt16 = 1
    private var serverIPID: UInt16 = 1
    private var clientFinished = false
    private var serverFinished = false

    static let clientMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
    static let serverMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]

    /// - Parameters:
    ///   - clientInitialSequence, serverInitialSequence: the ISNs (the SYNs carry them; data starts at ISN + 1).
    ///   - maximumSegmentSize: payload octets per segment (1…65 000).
    public init(
        client: TCPEndpoint, server: TCPEndpoint, clientInitialSequence: UInt32 = 0x1000_0000,
        serverInitialSequence: UInt32 = 0x2000_0000, maximumSegmentSize: Int = 1460
    ) {
        if client.address.family == server.address.family {
            self.client = client
            self.server = server
        } else {
            self.client = Self.asIPv6(client)
            self.server = Self.asIPv6(server)
        }
        self.maximumSegmentSize = max(1, min(maximumSegmentSize, 65_000))
        self.clientSequence = clientInitialSequence
        self.serverSequence = serverInitialSequence
    }

    /// The three-way handshake: SYN (client), SYN-ACK (server), ACK (client).
    public mutating func open(at time: PacketTimestamp) -> [SynthesizedFrame] {
        let syn = frame(from: .client, sequence: clientSequence, acknowledgment: 0, flags: [.syn], payload: [], at: time)
        clientSequence &+= 1
        let synAck = frame(from: .server, sequence: serverSequence, acknowledgment: clientSequence, flags: [.syn, .ack], payload: [], at: time)
        serverSequence &+= 1
        let ack = frame(from: .client, sequence: clientSequence, acknowledgment: serverSequence, flags: [.ack], payload: [], at: time)
        return [syn, synAck, ack]
    }

    /// Data from one side, in segments of at most `maximumSegmentSize` (the last with PSH), then
    /// the peer's ACK. Empty data gives no frames.
    public mutating func send(from sender: Sender, _ bytes: [UInt8], at time: PacketTimestamp) -> [SynthesizedFrame] {
        guard !bytes.isEmpty else { return [] }
        var frames: [SynthesizedFrame] = []
        frames.reserveCapacity(bytes.count / maximumSegmentSize + 2)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + maximumSegmentSize, bytes.count)
            let flags: TCPFlags = end == bytes.count ? [.psh, .ack] : [.ack]
            let chunk = bytes[offset..<end]
            frames.append(frame(from: sender, sequence: nextSequence(of: sender), acknowledgment: nextSequence(of: sender.peer), flags: flags, payload: chunk, at: time))
            advance(sender, by: UInt32(chunk.count))
            offset = end
        }
        frames.append(acknowledgment(from: sender.peer, at: time))
        return frames
    }

    /// FIN from one side, acknowledged by the peer. Closing a side twice gives no frames.
    public mutating func close(from sender: Sender, at time: PacketTimestamp) -> [SynthesizedFrame] {
        guard !isFinished(sender) else { return [] }
        let fin = frame(from: sender, sequence: nextSequence(of: sender), acknowledgment: nextSequence(of: sender.peer), flags: [.fin, .ack], payload: [], at: time)
        advance(sender, by: 1)
        setFinished(sender)
        return [fin, acknowledgment(from: sender.peer, at: time)]
    }

    /// RST (with ACK) from one side: the connection is gone.
    public mutating func reset(from sender: Sender, at time: PacketTimestamp) -> [SynthesizedFrame] {
        let rst = frame(from: sender, sequence: nextSequence(of: sender), acknowledgment: nextSequence(of: sender.peer), flags: [.rst, .ack], payload: [], at: time)
        clientFinished = true
        serverFinished = true
        return [rst]
    }

    // MARK: - State

    private func nextSequence(of sender: Sender) -> UInt32 {
        sender == .client ? clientSequence : serverSequence
    }

    private mutating func advance(_ sender: Sender, by count: UInt32) {
        if sender == .client { clientSequence &+= count } else { serverSequence &+= count }
    }

    private func isFinished(_ sender: Sender) -> Bool {
        sender == .client ? clientFinished : serverFinished
    }

    private mutating func setFinished(_ sender: Sender) {
        if sender == .client { clientFinished = true } else { serverFinished = true }
    }

    private mutating func acknowledgment(from sender: Sender, at time: PacketTimestamp) -> SynthesizedFrame {
        frame(from: sender, sequence: nextSequence(of: sender), acknowledgment: nextSequence(of: sender.peer), flags: [.ack], payload: [], at: time)
    }

    private static func asIPv6(_ endpoint: TCPEndpoint) -> TCPEndpoint {
        guard let value = endpoint.address.ipv4Value else { return endpoint }
        return TCPEndpoint(address: IPAddress(ipv6High: 0, low: 0xFFFF_0000_0000 | UInt64(value)), port: endpoint.port)
    }

    // MARK: - Frames

    private mutating func frame(
        from sender: Sender, sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags, payload: ArraySlice<UInt8>,
        at time: PacketTimestamp
    ) -> SynthesizedFrame {
        let source = sender == .client ? client : server
        let destination = sender == .client ? server : client
        let ipID: UInt16
        if sender == .client {
            ipID = clientIPID
            clientIPID &+= 1
        } else {
            ipID = serverIPID
            serverIPID &+= 1
        }
        let tcp = Self.tcpSegment(
            source: source, destination: destination, sequence: sequence, acknowledgment: acknowledgment, flags: flags,
            mss: flags.contains(.syn) ? UInt16(clamping: maximumSegmentSize) : nil, payload: payload)
        let isIPv6 = source.address.family == .ipv6
        var bytes: [UInt8] = []
        bytes.reserveCapacity(14 + (isIPv6 ? 40 : 20) + tcp.count)
        bytes += sender == .client ? Self.serverMAC : Self.clientMAC
        bytes += sender == .client ? Self.clientMAC : Self.serverMAC
        bytes += isIPv6 ? [0x86, 0xDD] : [0x08, 0x00]
        if isIPv6 {
            bytes += [0x60, 0x00, 0x00, 0x00]
            bytes.appendBigEndian(UInt16(tcp.count))
            bytes += [6, 64]
            bytes += source.address.bytes
            bytes += destination.address.bytes
        } else {
            var header: [UInt8] = [0x45, 0x00]
            header.appendBigEndian(UInt16(20 + tcp.count))
            header.appendBigEndian(ipID)
            header += [0x40, 0x00, 64, 6, 0, 0]
            header += source.address.bytes
            header += destination.address.bytes
            var checksum = InternetChecksum()
            checksum.add(header)
            let value = checksum.value
            header[10] = UInt8(value >> 8)
            header[11] = UInt8(value & 0xFF)
            bytes += header
        }
        bytes += tcp
        return SynthesizedFrame(timestamp: time, bytes: bytes)
    }

    /// The TCP header (with an MSS option on SYNs) and payload, checksummed over the pseudo-header.
    static func tcpSegment(
        source: TCPEndpoint, destination: TCPEndpoint, sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags, mss: UInt16?,
        payload: ArraySlice<UInt8>
    ) -> [UInt8] {
        let headerLength = mss == nil ? 20 : 24
        var segment: [UInt8] = []
        segment.reserveCapacity(headerLength + payload.count)
        segment.appendBigEndian(source.port)
        segment.appendBigEndian(destination.port)
        segment.appendBigEndian(sequence)
        segment.appendBigEndian(flags.contains(.ack) ? acknowledgment : 0)
        segment.appendBigEndian(UInt16(headerLength / 4) << 12 | flags.rawValue)
        segment.appendBigEndian(UInt16(65_535))
        segment += [0, 0, 0, 0]  // checksum, urgent pointer
        if let mss {
            segment += [2, 4]
            segment.appendBigEndian(mss)
        }
        segment += payload
        var checksum = InternetChecksum()
        checksum.add(source.address.bytes)
        checksum.add(destination.address.bytes)
        if source.address.family == .ipv6 {
            checksum.add(UInt16(truncatingIfNeeded: segment.count >> 16))
            checksum.add(UInt16(truncatingIfNeeded: segment.count))
            checksum.add(UInt16(6))
        } else {
            checksum.add(UInt16(6))
            checksum.add(UInt16(segment.count))
        }
        checksum.add(segment)
        let value = checksum.value
        segment[16] = UInt8(value >> 8)
        segment[17] = UInt8(value & 0xFF)
        return segment
    }
}

extension TCPStreamSynthesizer.Sender {
    /// The other side.
    public var peer: Self { self == .client ? .server : .client }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8(value >> 16 & 0xFF))
        append(UInt8(value >> 8 & 0xFF))
        append(UInt8(value & 0xFF))
    }
}
