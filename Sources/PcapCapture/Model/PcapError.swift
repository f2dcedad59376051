/// The one error type of PcapCapture: what failed (`kind`) and libpcap's own explanation
/// (`message`, its `errbuf` or `pcap_geterr` text).
///
///     do {
///         let reader = try PcapReader.open(path: "mail.pcap")
///         while let packet = try reader.next() { … }
///     } catch {
///         print(error)   // "mail.pcap: truncated dump file; tried to read 1514 captured bytes, only got 200 (after 17 packets)"
///     }
public struct PcapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done. Extensible: compare with the static members.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case cannotOpen, readFailed, cannotCreate, writeFailed, invalidArgument
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file is missing, unreadable, empty, or not a pcap/pcapng capture.
        public static let cannotOpen = Kind(.cannotOpen)
        /// A record could not be read: the file is truncated or corrupt after the packets read so far.
        public static let readFailed = Kind(.readFailed)
        /// The output file could not be created.
        public static let cannotCreate = Kind(.cannotCreate)
        /// Writing or flushing the output file failed (disk full, closed writer…).
        public static let writeFailed = Kind(.writeFailed)
        /// A caller's value is out of range (a packet larger than the snapshot length…).
        public static let invalidArgument = Kind(.invalidArgument)

        public var description: String {
            switch base {
            case .cannotOpen: "cannot open capture"
            case .readFailed: "cannot read capture"
            case .cannotCreate: "cannot create capture"
            case .writeFailed: "cannot write capture"
            case .invalidArgument: "invalid argument"
            }
        }
    }

    public var kind: Kind
    /// libpcap's message, e.g. `unknown file format` or `truncated dump file; …`.
    public var message: String
    /// The file concerned.
    public var path: String
    /// For `readFailed`: how many packets were read successfully before the failure.
    public var packetsRead: Int?

    public init(kind: Kind, message: String, path: String, packetsRead: Int? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
        self.packetsRead = packetsRead
    }

    /// One line: `path: message` plus the packet count for read failures (libpcap's messages
    /// that already start with the path are not prefixed twice).
    public var description: String {
        var text = message.hasPrefix(path + ":") ? message : "\(path): \(message)"
        if let packetsRead { text += " (after \(packetsRead) packet\(packetsRead == 1 ? "" : "s"))" }
        return text
    }
}
