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

    @Test func compactWritesTheIndexFileAndEveryTokenStillVerifies() throws {
        let secrets = try (0..<5).map { try createToken("t\($0)") }
        #expect(try tokenctl("revoke", "--user", "alice", "--name", "t0", "--yes").status == 0)
        let run = try tokenctl("compact")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("5 API tokens"))
        #expect(FileManager.default.fileExists(atPath: store + ".index"))
        #expect(try tokenctl("verify", secrets[0]).status != 0)
        for secret in secrets.dropFirst() { #expect(try tokenctl("verify", secret).status == 0) }
        let list = try tokenctl("list", "--user", "alice", "--json")
        #expect((list.json as? [Any])?.count == 4)
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

    @Test func rotatePrintsWhenThePreviousSecretStopsWorking() throws {
        _ = try createToken("ci")
        let run = try tokenctl("rotate", "--user", "alice", "--name", "ci", "--grace", "1h", "--json")
        let object = try #require(run.json as? [String: Any])
        let created = try #require(object["create_time"] as? Int)
        let validUntil = try #require(object["previous_valid_until"] as? Int)
        #expect(abs(validUntil - (created + 3_600)) <= 1)

        let graced = try tokenctl("rotate", "--user", "alice", "--name", "ci", "--grace", "2h")
        #expect(graced.status == 0)
        #expect(graced.output.contains("The previous secret works until "))
        let immediate = try tokenctl("rotate", "--user", "alice", "--name", "ci")
        #expect(immediate.output.contains("The previous secret no longer works."))
    }

    @Test func revokeAfterRotateAlsoRevokesThePredecessor() throws {
        let old = try createToken("ci")
        let rotated = try tokenctl("rotate", "--user", "alice", "--name", "ci", "--grace", "1h", "--json")
        let new = try #require((rotated.json as? [String: Any])?["token"] as? String)
        #expect(try tokenctl("verify", old).status == 0)

        let run = try tokenctl("revoke", "--user", "alice", "--name", "ci", "--yes")
        #expect(run.status == 0)
        #expect(run.output.contains("Revoked the API token \"ci\"."))
        #expect(run.output.contains("Also revoked 1 rotated-out predecessor still in its grace period."))
        for secret in [old, new] {
            let rejected = try tokenctl("verify", secret)
            #expect(rejected.status == 1)
            #expect(rejected.error.contains("revoked"))
        }
    }

    @Test func disableAndEnable() throws {
        let secret = try createToken("ci")
        let disabled = try tokenctl("disable", "--user", "alice", "--name", "ci")
        #expect(disabled.status == 0)
        #expect(disabled.output == "Disabled the API token \"ci\".\n")
        let rejected = try tokenctl("verify", secret)
        #expect(rejected.status == 1)
        #expect(rejected.error.contains("disabled"))
        let listed = try #require(try tokenctl("list", "--user", "alice", "--json").json as? [[String: Any]])
        #expect(listed.map { $0["status"] as? String } == ["disabled"])

        let enabled = try tokenctl("enable", "--user", "alice", "--name", "ci")
        #expect(enabled.status == 0)
        #expect(enabled.output == "Enabled the API token \"ci\".\n")
        #expect(try tokenctl("verify", secret).status == 0)
    }

    @Test func disableAndEnableJSONShowTheTokenAndItsPredecessors() throws {
        let old = try createToken("ci")
        try tokenctl("rotate", "--user", "alice", "--name", "ci", "--grace", "1h")
        let run = try tokenctl("disable", "--user", "alice", "--name", "ci", "--json")
        #expect(run.status == 0)
        let object = try #require(run.json as? [String: Any])
        #expect(
            Set(object.keys) == [
                "user", "name", "create_time", "expires_at", "last_used", "status", "scopes", "allowed_networks",
                "predecessors",
            ]
        )
        #expect(object["user"] as? String == "alice")
        #expect(object["name"] as? String == "ci")
        #expect(object["status"] as? String == "disabled")
        let predecessors = try #require(object["predecessors"] as? [[String: Any]])
        #expect(predecessors.count == 1)
        #expect(predecessors.first?["status"] as? String == "disabled")
        let rejected = try tokenctl("verify", old)
        #expect(rejected.status == 1)
        #expect(rejected.error.contains("disabled"))

        let human = try tokenctl("enable", "--user", "alice", "--name", "ci")
        #expect(human.output.contains("Also enabled 1 rotated-out predecessor"))
        let enabled = try tokenctl("enable", "--user", "alice", "--name", "ci", "--json")
        #expect((enabled.json as? [String: Any])?["status"] as? String == "active")
        #expect(try tokenctl("verify", old).status == 0)
    }

    @Test func updateReplacesScopesAndAddressesAndSetsTheExpiry() throws {
        let secret = try createToken("ci")
        let run = try tokenctl(
            "update",
            "--user",
            "alice",
            "--name",
            "ci",
            "--expires-at",
            "2099-01-31",
            "--scope",
            "dns",
            "--scope",
            "email",
            "--allow-ip",
            "192.0.2.0/24",
            "--json"
        )
        #expect(run.status == 0)
        let object = try #require(run.json as? [String: Any])
        #expect(object["name"] as? String == "ci")
        #expect(object["user"] as? String == "alice")
        #expect(object["expires_at"] as? Int == 4_073_587_199)
        #expect(object["scopes"] as? [String] == ["dns", "email"])
        #expect(object["allowed_networks"] as? [String] == ["192.0.2.0/24"])
        #expect((object["predecessors"] as? [Any])?.isEmpty == true)

        #expect(try tokenctl("verify", secret, "--scope", "dns", "--ip", "192.0.2.7").status == 0)
        #expect(try tokenctl("verify", secret, "--scope", "dns", "--ip", "198.51.100.1").status == 1)
        #expect(try tokenctl("verify", secret, "--scope", "ftp", "--ip", "192.0.2.7").status == 1)

        let human = try tokenctl("update", "--user", "alice", "--name", "ci", "--scope", "ftp")
        #expect(human.status == 0)
        #expect(
            human.output
                == "Updated the API token \"ci\": expires 2099-01-31T23:59:59Z, scopes ftp, from 192.0.2.0/24.\n"
        )
    }

    @Test func updateToNoExpiryWarnsAndExpiresInCountsFromNow() throws {
        _ = try createToken("ci")
        let never = try tokenctl("update", "--user", "alice", "--name", "ci", "--no-expiry", "--json")
        #expect(never.status == 0)
        #expect((never.json as? [String: Any])?["expires_at"] is NSNull)
        #expect(never.error.contains("strongly recommends an expiration date"))

        let before = Int(Date().timeIntervalSince1970)
        let soon = try tokenctl("update", "--user", "alice", "--name", "ci", "--expires-in", "1d", "--json")
        let after = Int(Date().timeIntervalSince1970)
        let expiresAt = try #require((soon.json as? [String: Any])?["expires_at"] as? Int)
        #expect((before + 86_400 - 1)...(after + 86_400 + 1) ~= expiresAt)
    }

    @Test func updateWithoutAChangeIsRefused() throws {
        let secret = try createToken("ci")
        let run = try tokenctl("update", "--user", "alice", "--name", "ci")
        #expect(run.status != 0)
        #expect(run.errorLines.count == 1)
        #expect(run.error.contains("at least one change"))
        #expect(run.output.isEmpty)
        #expect(try tokenctl("verify", secret).status == 0)
    }

    @Test func deleteNeedsYesWithoutATerminal() throws {
        let secret = try createToken("ci")
        let refused = try tokenctl("delete", "--user", "alice", "--name", "ci")
        #expect(refused.status != 0)
        #expect(refused.errorLines.count == 1)
        #expect(refused.error.contains("--yes"))
        #expect(try tokenctl("verify", secret).status == 0)

        let run = try tokenctl("delete", "--user", "alice", "--name", "ci", "--yes")
        #expect(run.status == 0)
        #expect(run.output == "Deleted the API token \"ci\".\n")
        let rejected = try tokenctl("verify", secret)
        #expect(rejected.status == 1)
        #expect(rejected.error.contains("unknown"))
        let all = try #require(try tokenctl("list", "--user", "alice", "--all", "--json").json as? [[String: Any]])
        #expect(all.isEmpty)
    }

    @Test func deleteJSONListsTheDeletedPredecessors() throws {
        let old = try createToken("ci")
        try tokenctl("rotate", "--user", "alice", "--name", "ci", "--grace", "1h")
        let run = try tokenctl("delete", "--user", "alice", "--name", "ci", "--yes", "--json")
        #expect(run.status == 0)
        let object = try #require(run.json as? [String: Any])
        #expect(object["name"] as? String == "ci")
        #expect(object["user"] as? String == "alice")
        #expect((object["predecessors"] as? [[String: Any]])?.count == 1)
        #expect(try tokenctl("verify", old).status == 1)
        let all = try #require(try tokenctl("list", "--user", "alice", "--all", "--json").json as? [[String: Any]])
        #expect(all.isEmpty)
    }

    @Test func purgeRemovesRevokedTokensOlderThanTheRetention() throws {
        _ = try createToken("gone")
        let kept = try createToken("kept")
        try tokenctl("revoke", "--user", "alice", "--name", "gone", "--yes")

        let retained = try tokenctl("purge", "--older-than", "1d")
        #expect(retained.status == 0)
        #expect(retained.output == "Deleted 0 API tokens that expired or were revoked at least 1d ago.\n")
        let listed = try #require(try tokenctl("list", "--user", "alice", "--all", "--json").json as? [[String: Any]])
        #expect(listed.count == 2)

        let run = try tokenctl("purge", "--older-than", "0s")
        #expect(run.status == 0)
        #expect(run.output == "Deleted 1 API token that expired or were revoked at least 0s ago.\n")
        let left = try #require(try tokenctl("list", "--user", "alice", "--all", "--json").json as? [[String: Any]])
        #expect(left.map { $0["name"] as? String } == ["kept"])
        #expect(try tokenctl("verify", kept).status == 0)
    }

    @Test func purgeJSONListsTheDeletedTokensOfEveryUser() throws {
        _ = try createToken("a")
        _ = try createToken("b", user: "bob")
        _ = try createToken("c")
        try tokenctl("revoke", "--user", "alice", "--name", "a", "--yes")
        try tokenctl("revoke", "--user", "bob", "--all", "--yes")
        let run = try tokenctl("purge", "--older-than", "0s", "--json")
        #expect(run.status == 0)
        let array = try #require(run.json as? [[String: Any]])
        #expect(Set(array.compactMap { $0["name"] as? String }) == ["a", "b"])
        #expect(Set(array.compactMap { $0["user"] as? String }) == ["alice", "bob"])
        #expect(Set(array.compactMap { $0["status"] as? String }) == ["revoked"])

        let again = try tokenctl("purge", "--older-than", "0s", "--json")
        #expect(again.json as? [Any] != nil)
        #expect((again.json as? [Any])?.isEmpty == true)
    }

    /// A by-name command on a token that does not exist fails with one line naming it.
    @Test(arguments: [
        ["disable", "--user", "alice", "--name", "missing"],
        ["enable", "--user", "alice", "--name", "missing", "--json"],
        ["update", "--user", "alice", "--name", "missing", "--scope", "dns"],
        ["delete", "--user", "alice", "--name", "missing", "--yes"],
        ["revoke", "--user", "alice", "--name", "missing", "--yes"],
        ["rotate", "--user", "alice", "--name", "missing"],
    ])
    func aMissingTokenIsOneLine(_ arguments: [String]) throws {
        _ = try createToken("ci")
        let run = try tokenctl(arguments)
        #expect(run.status != 0)
        #expect(run.errorLines.count == 1, "stderr: \(run.error)")
        #expect(run.error == "tokenctl: The API token \"missing\" does not exist.\n")
        #expect(run.output.isEmpty)
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
        ["update", "--user", "alice", "--name", "a"],
        ["update", "--user", "alice", "--name", "a", "--no-expiry", "--expires-at", "2099-01-31"],
        ["update", "--user", "alice", "--name", "a", "--expires-in", "10x"],
        ["update", "--user", "alice", "--name", "a", "--allow-ip", "192.0.2.0/33"],
        ["update", "--user", "alice", "--name", "a", "--expires-at", "253402387200"],
        ["update", "--user", "alice", "--name", "a", "--expires-in", "999999w"],
        ["disable", "--user", "alice"],
        ["delete", "--user", "alice", "--name", "a"],
        ["purge"],
        ["purge", "--older-than", "soon"],
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

    @Test func aPostgresURLReplacesTheStoreFileAndIsCheckedFirst() throws {
        // TOKENKIT_STORE is set by the helper, so an explicit --postgres beside --store is refused.
        let both = try tokenctl("list", "--user", "alice", "--store", store, "--postgres", "postgres://a@127.0.0.1/db")
        #expect(both.status != 0)
        #expect(both.error.contains("only one of --store"))

        let malformed = try tokenctl("list", "--user", "alice", "--store", "", "--postgres", "mysql://a@b/c")
        #expect(malformed.status != 0)
        #expect(malformed.errorLines.count == 1)
        #expect(malformed.error.contains("postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"))
    }
}
