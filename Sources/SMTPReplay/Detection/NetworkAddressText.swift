import PcapCapture

/// Formats raw address bytes found inside payloads (SOCKS requests).
enum NetworkAddressText {
    static func format(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        NetworkAddress(bytes: Array(bytes))?.description ?? "?"
    }
}
