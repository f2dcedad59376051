import Foundation

/// tshark as an outside judge. Missing tshark is a failure naming the package, never a skip.
enum Tshark {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One `follow,tcp,raw` block: the two nodes and the bytes each sent, in order.
    struct FollowedStream: Equatable {
        var stream: Int
        var node0: String
        var node1: String
        var fromNode0: [UInt8] = []
        var fromNode1: [UInt8] = []
    }

    static let executable: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/tshark"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static func run(_ arguments: [String]) throws -> String {
        guard let executable else {
            throw Failure(description: "tshark not found in PATH: install the Debian package 'tshark' (apt-get install -y tshark)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `tshark -r FILE -q -z follow,tcp,raw,N` for every N at once.
    static func follow(file: String, streams: [Int]) throws -> [Int: FollowedStream] {
        guard !streams.isEmpty else { return [:] }
        var arguments = ["-r", file, "-q"]
        for stream in streams { arguments += ["-z", "follow,tcp,raw,\(stream)"] }
        return parseFollow(try run(arguments))
    }

    /// Parses the blocks of `follow,tcp,raw`: lines of hex, indented by a tab when node 1 sent them.
    static func parseFollow(_ text: String) -> [Int: FollowedStream] {
        var result: [Int: FollowedStream] = [:]
        var current: FollowedStream?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Filter: tcp.stream eq ") {
                if let current { result[current.stream] = current }
                current = FollowedStream(stream: Int(line.dropFirst("Filter: tcp.stream eq ".count)) ?? -1, node0: "", node1: "")
            } else if line.hasPrefix("Node 0: ") {
                current?.node0 = String(line.dropFirst(8))
            } else if line.hasPrefix("Node 1: ") {
                current?.node1 = String(line.dropFirst(8))
            } else if line.hasPrefix("=====") || line.hasPrefix("Follow:") || line.isEmpty {
                continue
            } else if current != nil {
                let fromNode1 = line.hasPrefix("\t")
                let bytes = hexBytes(line.drop { $0 == "\t" })
                if fromNode1 { current!.fromNode1 += bytes } else { current!.fromNode0 += bytes }
            }
        }
        if let current { result[current.stream] = current }
        return result
    }

    private static func hexBytes(_ text: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case 0x30...0x39: value = character - 0x30
            case 0x61...0x66: value = character - 0x61 + 10
            case 0x41...0x46: value = character - 0x41 + 10
            default: continue
            }
            if let pending = high {
                bytes.append(pending << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}
