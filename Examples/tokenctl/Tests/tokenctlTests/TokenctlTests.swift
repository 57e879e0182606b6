import Foundation
import Testing

/// Runs the built `tokenctl` binary and checks what it prints and how it exits.
struct TokenctlTests {
    let directory: String
    var store: String { directory + "/tokens.tkstore" }

    init() throws {
        directory = NSTemporaryDirectory() + "tokenctl-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// What one run printed and how it exited.
    struct Run {
        var status: Int32
        var output: String
        var error: String

        var json: Any? { try? JSONSerialization.jsonObject(with: Data(output.utf8)) }
        var errorLines: [Substring] { error.split(separator: "\n") }
    }

    /// Runs `tokenctl` with the test's store (through TOKENKIT_STORE) and standard input from
    /// /dev/null, so it is never a terminal.
    @discardableResult
    func tokenctl(_ arguments: String...) throws -> Run {
        try tokenctl(arguments)
    }

    func tokenctl(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            .deletingLastPathComponent().appendingPathComponent("tokenctl")
        process.arguments = arguments
        process.environment = ["TOKENKIT_STORE": store]
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            output: String(decoding: out, as: UTF8.self),
            error: String(decoding: err, as: UTF8.self)
        )
    }

    /// Creates a token with `--json` and returns its secret.
    func createToken(_ name: String, user: String = "alice") throws -> String {
        let run = try tokenctl("create", "--user", user, "--name", name, "--json")
        let object = try #require(run.json as? [String: Any], "create printed: \(run.output) \(run.error)")
        return try #require(object["token"] as? String)
    }

    @Test func createPrintsTheTokenOnceWithAWarningToCopyIt() throws {
        let run = try tokenctl("create", "--user", "alice", "--name", "ci", "--expires-in", "30d", "--scope", "read")
        #expect(run.status == 0)
        let lines = run.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("tk_") && $0.count == 52 })
        #expect(run.output.contains("cannot be shown again"))
    }

    @Test func createJSONHasCPanelsFields() throws {
        let run = try tokenctl(
            "create",
            "--user",
            "alice",
            "--name",
            "ci",
            "--expires-at",
            "2099-01-31",
            "--scope",
            "dns",
            "--json"
        )
        let object = try #require(run.json as? [String: Any])
        #expect((object["token"] as? String)?.hasPrefix("tk_") == true)
        #expect(object["name"] as? String == "ci")
        #expect(object["user"] as? String == "alice")
        #expect(object["create_time"] is Int)
        // 2099-01-31 means the end of that day, 23:59:59 UTC.
        #expect(object["expires_at"] as? Int == 4_073_587_199)
        #expect(object["scopes"] as? [String] == ["dns"])
    }

    @Test func defaultExpiryIsOneYearAndNoExpiryWarns() throws {
        let defaulted = try tokenctl("create", "--user", "alice", "--name", "a", "--json")
        let object = try #require(defaulted.json as? [String: Any])
        let created = try #require(object["create_time"] as? Int)
        #expect(object["expires_at"] as? Int == created + 365 * 86_400)

        let never = try tokenctl("create", "--user", "alice", "--name", "b", "--no-expiry", "--json")
        #expect((never.json as? [String: Any])?["expires_at"] is NSNull)
        #expect(never.error.contains("strongly recommends an expiration date"))
    }

    @Test func listJSONNeverShowsSecretsOrDigests() throws {
        let secret = try createToken("ci")
        _ = try createToken("gone")
        try tokenctl("revoke", "--user", "alice", "--name", "gone", "--yes")
        let run = try tokenctl("list", "--user", "alice", "--json")
        let array = try #require(run.json as? [[String: Any]])
        #expect(array.map { $0["name"] as? String } == ["ci"])
        let entry = try #require(array.first)
        #expect(
            Set(entry.keys) == [
                "name", "create_time", "expires_at", "last_used", "status", "scopes", "allowed_networks",
            ]
        )
        #expect(entry["status"] as? String == "active")
        #expect(!run.output.contains(secret))
        #expect(!run.output.contains(String(secret.dropFirst(3).prefix(12))))

        let all = try #require(try tokenctl("list", "--user", "alice", "--all", "--json").json as? [[String: Any]])
        #expect(Set(all.compactMap { $0["status"] as? String }) == ["active", "revoked"])
    }

    @Test func renameThenVerify() throws {
        let secret = try createToken("old")
        #expect(try tokenctl("rename", "--user", "alice", "--name", "old", "--new-name", "new").status == 0)
        let run = try tokenctl("verify", secret, "--json")
        #expect(run.status == 0)
        #expect((run.json as? [String: Any])?["name"] as? String == "new")
        let duplicate = try tokenctl("rename", "--user", "alice", "--name", "new", "--new-name", "new")
        #expect(duplicate.status != 0)
        #expect(duplicate.errorLines.count == 1)
    }

    @Test func verifyExitCodes() throws {
        let secret = try createToken("ci")
        let valid = try tokenctl("verify", secret, "--user", "alice")
        #expect(valid.status == 0)
        #expect(valid.output.contains("alice") && valid.output.contains("ci"))
        let wrongUser = try tokenctl("verify", secret, "--user", "bob")
        #expect(wrongUser.status == 1)
        #expect(wrongUser.error.contains("wrong_owner"))
        let malformed = try tokenctl("verify", "not-a-token")
        #expect(malformed.status == 1)
        #expect(malformed.error.contains("malformed"))
        let scope = try tokenctl("verify", secret, "--scope", "x", "--ip", "192.0.2.1")
        #expect(scope.status == 0)
    }

    @Test func revokeNeedsYesWithoutATerminal() throws {
        let secret = try createToken("ci")
        let refused = try tokenctl("revoke", "--user", "alice", "--name", "ci")
        #expect(refused.status != 0)
        #expect(refused.errorLines.count == 1)
        #expect(refused.error.contains("--yes"))
        #expect(try tokenctl("verify", secret).status == 0)

        #expect(try tokenctl("revoke", "--user", "alice", "--name", "ci", "--yes").status == 0)
        let rejected = try tokenctl("verify", secret)
        #expect(rejected.status == 1)
        #expect(rejected.error.contains("revoked"))
    }

    @Test func revokeAll() throws {
        let first = try createToken("a")
        let second = try createToken("b")
        let bobs = try createToken("c", user: "bob")
        #expect(try tokenctl("revoke", "--user", "alice", "--all", "--yes").status == 0)
        #expect(try tokenctl("verify", first).status == 1)
        #expect(try tokenctl("verify", second).status == 1)
        #expect(try tokenctl("verify", bobs).status == 0)
    }

    @Test func rotateKeepsTheOldSecretDuringTheGracePeriod() throws {
        let old = try createToken("ci")
        let run = try tokenctl("rotate", "--user", "alice", "--name", "ci", "--grace", "1h", "--json")
        let object = try #require(run.json as? [String: Any])
        let new = try #require(object["token"] as? String)
        #expect(new != old)
        #expect(try tokenctl("verify", new).status == 0)
        #expect(try tokenctl("verify", old).status == 0)
        try tokenctl("rotate", "--user", "alice", "--name", "ci")
        #expect(try tokenctl("verify", new).status == 1)
    }

    /// Every failure is one readable line on standard error and a non-zero exit — never a trace.
    @Test(arguments: [
        ["create", "--user", "alice", "--name", "bad name"],
        ["create", "--user", "alice", "--name", "a", "--expires-at", "yesterday"],
        ["create", "--user", "alice", "--name", "a", "--expires-at", "2001-01-01"],
        ["create", "--user", "alice", "--name", "a", "--expires-in", "10x"],
        ["create", "--user", "alice", "--name", "a", "--no-expiry", "--expires-in", "1d"],
        ["create", "--user", "alice", "--name", "a", "--allow-ip", "300.1.1.1"],
        ["create", "--user", "alice"],
        ["rename", "--user", "alice", "--name", "missing", "--new-name", "x"],
        ["revoke", "--user", "alice"],
        ["verify", "tk_x", "--ip", "not-an-ip"],
        ["frobnicate"],
    ])
    func failuresAreOneReadableLine(_ arguments: [String]) throws {
        let run = try tokenctl(arguments)
        #expect(run.status != 0)
        #expect(run.errorLines.count == 1, "stderr: \(run.error)")
        #expect(run.error.hasPrefix("tokenctl: "))
        #expect(!run.error.contains("Fatal error") && !run.error.contains("Stack"))
    }

    @Test func aMissingStoreSettingAndADamagedStoreAreOneLineEach() throws {
        try Data("not a token store".utf8).write(to: URL(fileURLWithPath: store))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: store)
        let damaged = try tokenctl("list", "--user", "alice")
        #expect(damaged.status != 0)
        #expect(damaged.errorLines.count == 1)
        #expect(damaged.error.contains("not a TokenKit token store"))

        let missing = try tokenctl("list", "--user", "alice", "--store", "")
        #expect(missing.status != 0)
        #expect(missing.errorLines.count == 1)
        #expect(missing.error.contains("TOKENKIT_STORE"))
    }
}
