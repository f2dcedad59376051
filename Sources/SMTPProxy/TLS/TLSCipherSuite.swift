/// A TLS cipher suite by its IANA code point, named as OpenSSL (and so Postfix's
/// `encryption_cipher` policy attribute) names it, with the secret key bits Postfix reports as
/// `encryption_keysize`. The table holds every suite BoringSSL can negotiate as a server.
struct TLSCipherSuite: Hashable, Sendable {
    var code: UInt16

    /// OpenSSL's name (`TLS_AES_256_GCM_SHA384`, `ECDHE-RSA-AES128-GCM-SHA256`), or the code
    /// point in hex for a suite outside the table.
    var name: String { Self.table[code]?.name ?? "0x" + String(code, radix: 16, uppercase: true) }
    /// Secret key bits (0 for a suite outside the table).
    var keySize: Int { Self.table[code]?.bits ?? 0 }

    private static let table: [UInt16: (name: String, bits: Int)] = [
        0x1301: ("TLS_AES_128_GCM_SHA256", 128),
        0x1302: ("TLS_AES_256_GCM_SHA384", 256),
        0x1303: ("TLS_CHACHA20_POLY1305_SHA256", 256),
        0xC02B: ("ECDHE-ECDSA-AES128-GCM-SHA256", 128),
        0xC02C: ("ECDHE-ECDSA-AES256-GCM-SHA384", 256),
        0xC02F: ("ECDHE-RSA-AES128-GCM-SHA256", 128),
        0xC030: ("ECDHE-RSA-AES256-GCM-SHA384", 256),
        0xCCA8: ("ECDHE-RSA-CHACHA20-POLY1305", 256),
        0xCCA9: ("ECDHE-ECDSA-CHACHA20-POLY1305", 256),
        0xCCAC: ("ECDHE-PSK-CHACHA20-POLY1305", 256),
        0xC009: ("ECDHE-ECDSA-AES128-SHA", 128),
        0xC00A: ("ECDHE-ECDSA-AES256-SHA", 256),
        0xC013: ("ECDHE-RSA-AES128-SHA", 128),
        0xC014: ("ECDHE-RSA-AES256-SHA", 256),
        0xC035: ("ECDHE-PSK-AES128-CBC-SHA", 128),
        0xC036: ("ECDHE-PSK-AES256-CBC-SHA", 256),
        0x009C: ("AES128-GCM-SHA256", 128),
        0x009D: ("AES256-GCM-SHA384", 256),
        0x002F: ("AES128-SHA", 128),
        0x0035: ("AES256-SHA", 256),
        0x008C: ("PSK-AES128-CBC-SHA", 128),
        0x008D: ("PSK-AES256-CBC-SHA", 256),
        0x000A: ("DES-CBC3-SHA", 112),
    ]
}
