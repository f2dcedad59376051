import Foundation

/// rspamd with a normal worker and a proxy worker in milter mode (`milter = yes`) scanning through
/// it, on free ports, with every module that would look something up on the network disabled
/// (offline: GTUBE still gives `reject`), and the `milter_headers` module adding its headers.
struct RspamdMilter {
    let daemon: MilterDaemon
    let milterPort: Int
    let normalPort: Int

    static func shared() throws -> RspamdMilter {
        try MilterDaemons.shared("rspamd", { try RspamdMilter() }, stop: { $0.daemon.stop() })
    }

    private init() throws {
        let directory = try ScratchDirectory()
        milterPort = freeLoopbackPort()
        normalPort = freeLoopbackPort()
        for sub in ["local.d", "db", "run", "log"] {
            try FileManager.default.createDirectory(atPath: directory.file(sub), withIntermediateDirectories: true)
        }
        let networkModules = [
            "rbl", "surbl", "asn", "fuzzy_check", "dkim", "spf", "dmarc", "arc", "mx_check", "phishing", "emails",
            "url_redirector", "hfilter", "rspamd_update", "reputation", "greylist", "ratelimit", "neural", "dcc",
        ]
        for module in networkModules { try directory.write("enabled = false;\n", to: "local.d/\(module).conf") }
        try directory.write(
            """
            use = ["x-spamd-result", "x-rspamd-server", "x-rspamd-queue-id", "x-spam-level", "x-spam-status"];
            extended_spam_headers = true;
            skip_local = false;
            skip_authenticated = false;

            """, to: "local.d/milter_headers.conf")
        try directory.write(
            """
            .include "$CONFDIR/common.conf"
            options {
                pidfile = "$RUNDIR/rspamd.pid";
                .include "$CONFDIR/options.inc"
                dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; retransmits = 0; }
            }
            logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info"; }
            worker "normal" { bind_socket = "127.0.0.1:\(normalPort)"; .include "$CONFDIR/worker-normal.inc" }
            worker "rspamd_proxy" {
                bind_socket = "127.0.0.1:\(milterPort)";
                milter = yes; timeout = 120s; count = 1;
                upstream "local" { default = yes; self_scan = no; hosts = "127.0.0.1:\(normalPort)"; }
            }

            """, to: "rspamd.conf")
        let owner: [FileAttributeKey: Any] = [.ownerAccountName: "_rspamd", .groupOwnerAccountName: "_rspamd"]
        for path in [directory.path] + ["local.d", "db", "run", "log", "rspamd.conf"].map(directory.file) {
            try FileManager.default.setAttributes(owner, ofItemAtPath: path)
        }
        daemon = try MilterDaemon(
            "rspamd", program: "rspamd",
            arguments: [
                "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", directory.file("rspamd.conf"),
                "--var=LOCAL_CONFDIR=\(directory.path)", "--var=DBDIR=\(directory.file("db"))",
                "--var=RUNDIR=\(directory.file("run"))", "--var=LOGDIR=\(directory.file("log"))",
            ],
            directory: directory, ports: [milterPort, normalPort], timeout: 120)
    }
}
