import Foundation
import SMTPCore
@testable import SMTPFilters
import TestSupport
import Testing

/// `settings.milters:` and `settings.spool:` (SPEC §12): read, and refused with `file:line:`.
@Suite struct MilterSettingsParsingTests {
    @Test func readsMiltersInOrderWithDefaults() throws {
        let file = try RuleFile(
            parsing: """
                settings:
                  milters:
                    - name: rspamd
                      socket: inet:127.0.0.1:11332
                      timeout: 30s
                      on-error: accept
                    - name: opendkim
                      socket: unix:/run/opendkim/opendkim.sock
                    - name: v6
                      socket: inet:[::1]:8891
                      timeout: 500ms
                      on-error: reject
                  spool: /var/spool/smtp-inspect
                """, path: "filters/50-milters.yaml")
        let milters = try #require(file.settings.milters)
        #expect(milters.map(\.name) == ["rspamd", "opendkim", "v6"])
        #expect(milters[0].socket == .inet(host: "127.0.0.1", port: 11332))
        #expect(milters[0].timeout == .seconds(30) && milters[0].onError == .accept)
        #expect(milters[0].location == RuleLocation(file: "filters/50-milters.yaml", line: 3))
        #expect(milters[1].socket == .unix(path: "/run/opendkim/opendkim.sock"))
        #expect(milters[1].timeout == MilterSettings.defaultTimeout && milters[1].onError == .tempfail)
        #expect(milters[2].socket == .inet(host: "::1", port: 8891) && milters[2].socket.description == "inet:[::1]:8891")
        #expect(milters[2].timeout == .milliseconds(500) && milters[2].onError == .reject)
        #expect(file.settings.spool == "/var/spool/smtp-inspect")
    }

    @Test(arguments: [
        ("    - name: a\n      socket: tcp:127.0.0.1:1\n", "4: 'socket' must be inet:HOST:PORT or unix:PATH, not 'tcp:127.0.0.1:1'"),
        ("    - name: a\n      socket: inet:127.0.0.1:70000\n", "4: 'socket' port must be 1…65535, not '70000' in 'inet:127.0.0.1:70000'"),
        ("    - name: a\n      socket: \"unix:\"\n", "4: 'socket' unix socket must be an absolute path (unix:/run/name.sock), not 'unix:'"),
        ("    - name: a\n      socket: inet:h:1\n      timeout: soon\n",
         "5: 'timeout' must be a duration from 1ms to 1h such as '30s', '500ms' or '2m', not 'soon'"),
        ("    - name: a\n      socket: inet:h:1\n      on-error: tempfial\n",
         "5: 'on-error' must be 'accept', 'tempfail' or 'reject', not 'tempfial' (did you mean 'tempfail'?)"),
        ("    - socket: inet:h:1\n", "3: milter has no 'name'"),
        ("    - name: a\n", "3: milter 'a' has no 'socket' (inet:HOST:PORT or unix:PATH)"),
        ("    - name: a\n      socket: inet:h:1\n      sockt: x\n", "5: unknown key 'sockt' in a milter (did you mean 'socket'?)"),
        ("    - name: a\n      socket: inet:h:1\n    - name: a\n      socket: inet:h:2\n",
         "5: duplicate milter name 'a' (first defined at line 3)"),
        ("    name: a\n", "3: 'milters' must be a list of milters, each starting with '- name:'"),
    ])
    func refusesBadMilterEntries(entry: String, expected: String) {
        let yaml = "settings:\n  milters:\n" + entry
        #expect(throws: FilterError.List.self) { try RuleFile(parsing: yaml, path: "m.yaml") }
        do {
            _ = try RuleFile(parsing: yaml, path: "m.yaml")
        } catch {
            #expect(error.problems.map { "\($0.line ?? 0): \($0.message)" }.contains(expected), "\(error.problems)")
            #expect(error.problems.allSatisfy { $0.description.hasPrefix("m.yaml:") })
        }
    }

    @Test func refusesARelativeSpool() {
        do {
            _ = try RuleFile(parsing: "settings:\n  spool: spool/\n", path: "s.yaml")
            Issue.record("accepted a relative spool")
        } catch {
            #expect(error.problems.map(\.description) == ["s.yaml:2: 'spool' must be an absolute directory path, not 'spool/'"])
        }
    }

    @Test func miltersOfSeveralFilesJoinInLoadOrderAndNamesStayUnique() throws {
        let directory = try TemporaryDirectory()
        try directory.write("10-a.yaml", "settings:\n  milters:\n    - {name: rspamd, socket: 'inet:127.0.0.1:11332'}\n  spool: /one\n")
        try directory.write("20-b.yaml", "settings:\n  milters:\n    - {name: opendkim, socket: 'inet:127.0.0.1:8891'}\n  spool: /two\n")
        let rules = try RuleSet.load(paths: [directory.path])
        #expect(rules.milters.map(\.name) == ["rspamd", "opendkim"])
        #expect(rules.spool == "/two")
        try directory.write("30-c.yaml", "settings:\n  milters:\n    - {name: rspamd, socket: 'unix:/x'}\n")
        let report = CheckReport(paths: [directory.path])
        #expect(report.problems.map(\.description) == [
            "\(directory.path)/30-c.yaml:3: duplicate milter name 'rspamd' (first defined at \(directory.path)/10-a.yaml:3)"
        ])
    }
}
