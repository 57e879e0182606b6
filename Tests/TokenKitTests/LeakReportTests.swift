import Foundation
import Testing
import TokenKit
import TokenKitTesting

/// Leaked tokens revoke themselves (issue 14's core): a report in GitHub's shape revokes this
/// server's tokens at once and answers GitHub's verdicts.
struct LeakReportTests {
    @Test(arguments: Backend.allCases)
    func aLeakedTokenIsRevokedAndRefusedAtItsNextValidation(_ backend: Backend) async throws {
        let fixture = try BackendFixture(backend)
        let leaked = try await fixture.manager.create(owner: "alice", name: "ci")
        let safe = try await fixture.manager.create(owner: "alice", name: "other")
        let url = "https://github.com/octocat/Hello-World/blob/main/.env"
        let report = LeakReport(matches: [
            .init(token: leaked.secret, type: "tokenkit_api_token", url: url, source: "content"),
            .init(token: "tk_" + String(repeating: "0", count: 49), type: "tokenkit_api_token"),
            .init(token: "not a token", type: "tokenkit_api_token"),
            .init(token: leaked.secret, type: "tokenkit_api_token", url: url, source: "commit"),
        ])
        let verdicts = try await fixture.manager.revokeLeakedTokens(report)
        #expect(verdicts.map(\.label) == [.truePositive, .falsePositive, .falsePositive, .truePositive])
        #expect(verdicts[0].tokenHash == SHA256Hasher().digest(of: leaked.secret).hex)
        #expect(verdicts.allSatisfy { $0.tokenType == "tokenkit_api_token" })
        try await fixture.reopen()
        #expect(try await fixture.manager.validate(leaked.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(safe.secret).record != nil)

        let events = fixture.audit.events.filter { $0.kind == .leaked }
        #expect(events.count == 1)  // reported twice, handled once
        #expect(events[0].tokenID == leaked.record.id && events[0].owner == "alice")
        #expect(events[0].detail?.contains(url) == true && events[0].detail?.contains("source=content") == true)
        #expect(!fixture.audit.events.map(String.init(describing:)).joined().contains(leaked.secret))

        // Reported again: still a true positive, nothing more to revoke.
        let again = try await fixture.manager.revokeLeakedTokens(
            LeakReport(matches: [.init(token: leaked.secret, type: "t")])
        )
        #expect(again.map(\.label) == [.truePositive])
    }

    /// A report whose url holds the secret itself does not put the secret in the audit log.
    @Test func aUrlThatHoldsTheSecretIsRedacted() async throws {
        let fixture = try BackendFixture(.memory)
        let leaked = try await fixture.manager.create(owner: "alice", name: "ci")
        let url = "https://example.com/page?token=\(leaked.secret)&" + String(repeating: "x", count: 2_000)
        _ = try await fixture.manager.revokeLeakedTokens(
            LeakReport(matches: [.init(token: leaked.secret, type: "t", url: url)])
        )
        let event = try #require(fixture.audit.events.last { $0.kind == .leaked })
        #expect(event.detail?.contains("<redacted>") == true)
        #expect(event.detail?.contains(leaked.secret) == false)
        #expect((event.detail?.count ?? 0) < 600)
    }

    /// A rotated-out secret that leaks is revoked with the older ones still in grace; the current
    /// token keeps working. A current token that leaks takes its predecessors in grace with it.
    @Test func aLeakAmongRotationsRevokesOnlyWhatTheLeakExposes() async throws {
        let fixture = try BackendFixture(.memory)
        let first = try await fixture.manager.create(owner: "alice", name: "ci")
        let second = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600)).issued
        let third = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600)).issued
        _ = try await fixture.manager.revokeLeakedTokens(LeakReport(matches: [.init(token: second.secret, type: "t")]))
        #expect(try await fixture.manager.validate(first.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(second.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(third.secret).record != nil)

        let fourth = try await fixture.manager.rotate(owner: "alice", name: "ci", grace: .seconds(3_600)).issued
        _ = try await fixture.manager.revokeLeakedTokens(LeakReport(matches: [.init(token: fourth.secret, type: "t")]))
        #expect(try await fixture.manager.validate(third.secret) == .rejected(.revoked))
        #expect(try await fixture.manager.validate(fourth.secret) == .rejected(.revoked))
    }

    @Test func reportsDecodeFromGitHubsShapeAndAreBounded() throws {
        let body = Data(#"[{"token":"some_token","type":"some_type","url":"some_url"}]"#.utf8)
        let report = try LeakReport(json: body)
        #expect(report.matches == [.init(token: "some_token", type: "some_type", url: "some_url")])
        for bad in ["", "{}", "[1]", #"[{"token":"x"}]"#, "[" + String(repeating: "[", count: 10_000)] {
            #expect(throws: TokenKitError(.malformedLeakReport, "")) { try LeakReport(json: Data(bad.utf8)) }
        }
        let many = "[" + Array(repeating: #"{"token":"t","type":"x"}"#, count: 3).joined(separator: ",") + "]"
        #expect(throws: TokenKitError(.malformedLeakReport, "")) {
            try LeakReport(json: Data(many.utf8), maximumMatches: 2)
        }
        #expect(TokenKitError.Code.malformedLeakReport.suggestedHTTPStatus == 400)
    }

    @Test func verdictsEncodeAsGitHubExpects() throws {
        let verdict = LeakVerdict(
            tokenHash: SHA256Hasher().digest(of: "some_token").hex,
            tokenType: "some_type",
            label: .falsePositive
        )
        let json = String(decoding: LeakVerdict.json([verdict]), as: UTF8.self)
        #expect(
            json == #"[{"label":"false_positive","token_hash":"\#(verdict.tokenHash)","token_type":"some_type"}]"#
        )
        // SHA-256("some_token"), as any sha256sum prints it.
        #expect(verdict.tokenHash == "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a")
    }
}
