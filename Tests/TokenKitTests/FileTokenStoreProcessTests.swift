import Foundation
import Testing
import TokenKitTesting

@testable import TokenKit

/// The file store shared by real processes, and killed at random moments.
@Suite(.serialized)
struct FileTokenStoreProcessTests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("shared.tkstore") }

    /// SIGKILL a writer at random moments, 50 times; after each, the store opens and holds every
    /// change the writer had acknowledged.
    @Test func everyAcknowledgedChangeSurvivesSIGKILL() async throws {
        var generator = SystemRandomNumberGenerator()
        var acknowledgedCreates = 0
        for round in 0..<50 {
            // Every third round compacts after a handful of writes, so kills also land mid-compaction.
            let threshold = round % 3 == 0 ? "4" : "10000"
            let helper = try HelperProcess(["churn", path, "r\(round)", threshold])
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...150, using: &generator)))
            helper.kill()

            var secrets: [String: String] = [:]
            var renamed: Set<String> = []
            var revoked: Set<String> = []
            for line in helper.lines() {
                let words = line.split(separator: " ").map(String.init)
                switch words.first {
                case "created": secrets[words[1]] = words[2]
                case "renamed": renamed.insert(words[1])
                case "revoked": revoked.insert(String(words[1].dropLast(2)))
                default: Issue.record("unexpected line \(line)")
                }
            }
            acknowledgedCreates += secrets.count

            let store = try FileTokenStore(path: path)
            for (name, secret) in secrets {
                let record = try #require(
                    try store.record(forDigest: SHA256Hasher().digest(of: secret)),
                    "round \(round): acknowledged token \(name) is missing"
                )
                #expect(record.owner == "churn")
                #expect(record.name == name || record.name == name + "-r", "round \(round): \(name) is \(record.name)")
                if renamed.contains(name) {
                    #expect(record.name == name + "-r", "round \(round): rename of \(name) lost")
                }
                if revoked.contains(name) { #expect(record.revokedAt != nil, "round \(round): revoke of \(name) lost") }
            }
        }
        // The kills must have let some work through, or the test proved nothing.
        #expect(acknowledgedCreates > 50)
    }

    /// Four processes race to create the same 250 names: each name is created exactly once, and
    /// every token validates in every process.
    @Test func fourProcessesCreateEachNameExactlyOnce() async throws {
        let workers = try (0..<4).map { try HelperProcess(["create", path, "\($0)", "250"]) }
        var created: [String: String] = [:]
        var duplicates = 0
        for worker in workers {
            worker.wait()
            #expect(worker.process.terminationStatus == 0)
            for line in worker.lines() {
                let words = line.split(separator: " ").map(String.init)
                if words[0] == "created" {
                    #expect(created[words[1]] == nil, "\(words[1]) was created twice")
                    created[words[1]] = words[2]
                } else {
                    duplicates += 1
                }
            }
        }
        #expect(created.count == 250)
        #expect(duplicates == 750)

        let validators = try (0..<4).map { _ in try HelperProcess(["serve", path]) }
        for validator in validators {
            #expect(validator.readLine() == "ready")
            for (name, secret) in created {
                #expect(try validator.ask("validate \(secret)") == "valid shared \(name)")
            }
            validator.kill()
        }
        let manager = TokenManager(store: try FileTokenStore(path: path))
        for (name, secret) in created {
            #expect(try await manager.validate(secret).record?.name == name)
        }
    }

    /// A token revoked in one process is refused by the very next validation in another.
    @Test func revocationInOneProcessIsSeenByTheNextValidationInAnother() async throws {
        let manager = TokenManager(store: try FileTokenStore(path: path))
        let helper = try HelperProcess(["serve", path])
        defer { helper.kill() }
        #expect(helper.readLine() == "ready")

        let first = try await manager.create(owner: "alice", name: "first")
        #expect(try helper.ask("validate \(first.secret)") == "valid alice first")
        try await manager.revoke(owner: "alice", name: "first")
        #expect(try helper.ask("validate \(first.secret)") == "rejected revoked")

        let second = try await manager.create(owner: "alice", name: "second")
        #expect(try await manager.validate(second.secret).record != nil)
        #expect(try helper.ask("revoke alice second") == "revoked second")
        #expect(try await manager.validate(second.secret) == .rejected(.revoked))
    }
}
