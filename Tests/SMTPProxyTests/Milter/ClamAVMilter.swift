import Foundation

/// clamd with a signature database holding only the EICAR test signature (a local `.hdb`, no
/// download), and clamav-milter asking it, refusing infected messages (`OnInfected Reject`).
struct ClamAVMilter {
    let clamd: MilterDaemon
    let milter: MilterDaemon
    let milterPort: Int

    /// The 68 octets of the EICAR anti-virus test file.
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    static func shared() throws -> ClamAVMilter {
        try MilterDaemons.shared("clamav", { try ClamAVMilter() }, stop: { $0.milter.stop(); $0.clamd.stop() })
    }

    private init() throws {
        let clamdDirectory = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: clamdDirectory.file("db"), withIntermediateDirectories: true)
        let md5 = try ExternalProcess.run("md5sum", [], input: Data(Self.eicar.utf8)).output.prefix(32)
        try clamdDirectory.write("\(md5):\(Self.eicar.utf8.count):Eicar-Test-Signature\n", to: "db/eicar.hdb")
        let socket = clamdDirectory.file("clamd.sock")
        try clamdDirectory.write(
            """
            LocalSocket \(socket)
            DatabaseDirectory \(clamdDirectory.file("db"))
            Foreground yes
            LogFile \(clamdDirectory.file("clamd.log"))

            """, to: "clamd.conf")
        clamd = try MilterDaemon(
            "clamd", program: "clamd", arguments: ["-c", clamdDirectory.file("clamd.conf")], directory: clamdDirectory,
            sockets: [socket])
        let milterDirectory = try ScratchDirectory()
        milterPort = freeLoopbackPort()
        try milterDirectory.write(
            """
            MilterSocket inet:\(milterPort)@127.0.0.1
            ClamdSocket unix:\(socket)
            Foreground yes
            OnInfected Reject
            OnFail Defer
            AddHeader Replace
            LogFile \(milterDirectory.file("milter.log"))
            LogInfected Basic

            """, to: "clamav-milter.conf")
        milter = try MilterDaemon(
            "clamav-milter", program: "clamav-milter", arguments: ["-c", milterDirectory.file("clamav-milter.conf")],
            directory: milterDirectory, ports: [milterPort])
    }
}
