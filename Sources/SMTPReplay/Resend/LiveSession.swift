import SMTPCore
import struct NIOCore.ByteBuffer

/// The live connection of one resend: the socket and the replies read from it.
struct LiveSession {
    let socket: BlockingTCPSocket
    private var inbound = ByteBuffer()
    private var parser = ReplyParser()

    init(socket: BlockingTCPSocket) {
        self.socket = socket
    }

    mutating func send(_ bytes: ByteBuffer, until deadline: Deadline) -> SocketFailure? {
        do {
            try socket.write(bytes, until: deadline, readingInto: &inbound)
            return nil
        } catch {
            return error
        }
    }

    /// True when the server has closed its side (its EOF was read, now or before).
    mutating func serverHasClosed() -> Bool {
        // The drain's result is what it read: a close sets `peerClosed` (read next), an error shows at the next read.
        if !socket.peerClosed { _ = socket.drain(into: &inbound) }
        return socket.peerClosed
    }

    /// The complete replies read so far.
    mutating func takeReplies() -> [ResendReply] {
        var replies: [ResendReply] = []
        while let item = parser.next(from: &inbound) { replies.append(ResendReply(item)) }
        inbound.discardReadBytes()
        return replies
    }

    /// Reads until `replies` holds `count` replies (plus whatever else already arrived).
    mutating func waitForReplies(_ count: Int, have replies: inout [ResendReply], until deadline: Deadline) -> StepEnding {
        while replies.count < count {
            switch socket.read(into: &inbound, until: deadline) {
            case .data:
                replies += takeReplies()
            case .closed:
                replies += takeReplies()
                return replies.count < count ? .closed : .complete
            case .timedOut:
                return .timedOut
            case .failed(let reason):
                return .failed(SocketFailure(reason))
            }
        }
        // Replies that came with the last one expected belong to this step too.
        _ = socket.drain(into: &inbound)  // what is there now; a close or an error shows at the next step's read
        replies += takeReplies()
        return .complete
    }

    /// After the last step: reads until the server closes or `deadline`.
    mutating func waitForClose(have replies: inout [ResendReply], until deadline: Deadline) {
        while true {
            switch socket.read(into: &inbound, until: deadline) {
            case .data:
                replies += takeReplies()
            case .closed, .timedOut, .failed:
                replies += takeReplies()
                return
            }
        }
    }
}
