import SMTPCore

/// The store counts in whole milliseconds (Int64): from 1970 for instants, as a length for
/// windows, bans and delays.
extension Duration {
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

extension SMTPTimestamp {
    var wholeMilliseconds: Int64 {
        seconds * 1000 + Int64(nanoseconds / 1_000_000)
    }

    init(wholeMilliseconds milliseconds: Int64) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        self.init(seconds: seconds, nanoseconds: Int32(milliseconds - seconds * 1000) * 1_000_000)
    }
}
