import struct NIOCore.ByteBuffer

/// What the engine asks its driver to do after one input. The driver owns one value, passes it to
/// every engine call and empties it (`removeAll()`, which keeps capacity) after carrying it out.
///
/// Order of execution for the driver: write `toServer` and `toClient` (each in order), then close
/// what `closeServer`/`closeClient` say, and half-close the upstream if `shutdownServerOutput`.
/// `events` go to the audit log in order.
public struct InspectionEffects: Sendable {
    /// Bytes for the upstream server, in order: zero-copy slices of what the client sent wherever
    /// the proxy forwards unchanged bytes.
    public var toServer: [ByteBuffer] = []
    /// Bytes for the client, in order: server replies (possibly re-framed) and the proxy's own.
    public var toClient: [ByteBuffer] = []
    public var events: [AuditEvent] = []
    /// With `recordsClientTranscript`: the client's bytes as the engine consumed them, in order,
    /// AUTH secrets replaced by `cmVkYWN0ZWQ=` (base64 of "redacted") — what a recording shows
    /// of the client's side.
    public var clientTranscript: [ByteBuffer] = []
    /// Close the client connection once `toClient` is written.
    public var closeClient = false
    /// Close the upstream connection once `toServer` is written. Mid-DATA this is the abort: the
    /// upstream never receives an end of data, so it delivers nothing.
    public var closeServer = false
    /// Shut down the upstream's write side (the client half-closed after its last command).
    public var shutdownServerOutput = false
    /// `--tls terminate`: once `toClient` is written (in clear), start TLS as the server on the
    /// client leg; everything the client sends from then on is decrypted before the engine sees it.
    public var startClientTLS = false
    /// `--tls terminate`: start TLS as the client on the upstream leg before writing `toServer`
    /// (the batch that asks for it carries no bytes for the upstream that must go in clear).
    public var startServerTLS = false

    public init() {}

    public var isEmpty: Bool {
        toServer.isEmpty && toClient.isEmpty && events.isEmpty && clientTranscript.isEmpty && !closeClient && !closeServer && !shutdownServerOutput
            && !startClientTLS && !startServerTLS
    }

    public mutating func removeAll() {
        toServer.removeAll(keepingCapacity: true)
        toClient.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
        clientTranscript.removeAll(keepingCapacity: true)
        closeClient = false
        closeServer = false
        shutdownServerOutput = false
        startClientTLS = false
        startServerTLS = false
    }
}
