import PcapCapture

/// The packet loop `CaptureReplay` and `ConversationReader` share: opens a capture, decodes every
/// packet, counts packets, TCP segments and ignored packets in a `ReplaySummary`, and hands each
/// TCP segment on, in capture order.
struct CapturePacketLoop {
    /// What reading left: the counts, where the reader stopped, and the damage that stopped it
    /// early (nil when the file was read to its end).
    struct Outcome {
        var summary: ReplaySummary
        var finalOffset: Int64?
        var damage: PcapError?
    }

    let path: String

    /// Reads the file to its end or its damage. `segment` gets each TCP segment; `packetRead` runs
    /// after every packet with the reader's position.
    ///
    /// - Throws: `ReplayError` when the file cannot be opened at all.
    func run(
        segment: (TCPSegment, inout ReplaySummary) -> Void,
        packetRead: (_ summary: ReplaySummary, _ fileOffset: Int64?) -> Void = { _, _ in }
    ) throws(ReplayError) -> Outcome {
        let reader: PcapReader
        do {
            reader = try PcapReader.open(path: path)
        } catch {
            throw ReplayError(error)
        }
        var summary = ReplaySummary(path: path)
        summary.linkType = reader.linkType
        var damage: PcapError?
        while true {
            let packet: CapturedPacket?
            do {
                packet = try reader.next()
            } catch {
                damage = error
                break
            }
            guard let packet else { break }
            summary.packets += 1
            switch PacketDecoder.decode(packet) {
            case .segment(let decoded):
                summary.tcpSegments += 1
                segment(decoded, &summary)
            case .ignored(let reason):
                summary.ignoredPackets[reason, default: 0] += 1
            }
            packetRead(summary, reader.fileOffset)
        }
        return Outcome(summary: summary, finalOffset: reader.fileOffset, damage: damage)
    }
}
