/// The 16-bit one's complement checksum of IPv4 headers and TCP (RFC 1071), fed in pieces.
///
///     var sum = InternetChecksum()
///     sum.add(pseudoHeader)
///     sum.add(segment)
///     let field = sum.value   // goes into the header as is (big-endian)
struct InternetChecksum {
    private var sum: UInt64 = 0
    /// A byte left over from an odd-length piece, waiting for its partner.
    private var pendingHighByte: UInt8?

    init() {}

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if let high = pendingHighByte {
                sum &+= UInt64(high) << 8 | UInt64(byte)
                pendingHighByte = nil
            } else {
                pendingHighByte = byte
            }
        }
    }

    mutating func add(_ word: UInt16) {
        add([UInt8(word >> 8), UInt8(word & 0xFF)])
    }

    /// The complemented, folded sum.
    var value: UInt16 {
        var total = sum
        if let high = pendingHighByte { total &+= UInt64(high) << 8 }
        while total >> 16 != 0 { total = (total & 0xFFFF) + (total >> 16) }
        return ~UInt16(total)
    }
}
