import NIOCore
import SMTPServices

/// What a session keeps of the message it holds for milters.
struct HeldMessageState {
    /// Client reads pause while more than this waits to be written to the spool file.
    static let maximumBytesWaiting = 1 << 20
    /// Chunks (≤ 64 KiB each) read from a spool file per trip to the thread pool.
    static let chunksPerRead = 4

    /// The milters to ask (nil: none configured; the engine then never holds).
    let milters: MilterConsultant?
    var spool: MessageSpool?
    var outcome: MilterMessageOutcome?
    var failure: (any Error)?
    /// The last append queued on the thread pool (nil: none outstanding).
    var spoolWrites: EventLoopFuture<Void>?
    /// Octets handed to the thread pool and not yet written.
    var bytesWaiting = 0
    /// The content being written upstream.
    var content: HeldMessage.Content?
    /// It is read on the event loop (no file involved).
    var contentInMemory = true
    /// A read of it is on the thread pool.
    var reading = false
    /// The in-memory release loop is running: a write inside it can change the upstream's
    /// writability, whose handler must not start a second loop on the same content.
    var writing = false
    /// Releasing as BDAT: the octets of the announced size not yet written.
    var chunkOctetsLeft: Int?

    /// How a held message goes upstream (`SessionAction.releaseHeldContent`/`releaseHeldChunk`).
    enum Release {
        case data
        case chunk
    }
}
