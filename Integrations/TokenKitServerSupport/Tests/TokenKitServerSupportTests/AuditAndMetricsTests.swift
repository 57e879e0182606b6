import Foundation
import InMemoryLogging
import Logging
import MetricsTestKit
import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitTesting

struct AuditAndMetricsTests {
    func manager(sink: any TokenAuditSink) -> TokenManager {
        TokenManager(store: InMemoryTokenStore(), configuration: .init(clock: ManualClock(), auditSink: sink))
    }

    @Test func linesCarryStructuredEscapedMetadataAndNoSecret() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let manager = manager(sink: TokenAuditLogger(logger: logger))
        let issued = try await manager.create(owner: "mallory\u{202E}exe.txt", name: "ci")
        _ = try await manager.validate(authorization: "cpanel \(issued.secret):alice")
        _ = try await manager.validate(authorization: "Bearer \(issued.secret)x")
        let entries = handler.entries
        #expect(entries.count == 3)
        #expect(entries[0].message.description == "token.created")
        #expect(entries[0].metadata["token.owner"]?.description == "mallory\\u{202E}exe.txt")
        #expect(entries[0].metadata["token.id"]?.description == issued.record.id.description)
        #expect(entries[1].level == .notice && entries[1].metadata["token.reason"]?.description == "malformed")
        let everything = entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        #expect(!everything.contains(issued.secret))
        #expect(!everything.contains("\u{202E}"))
    }

    @Test func identicalFailureLinesAreAggregated() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let manager = manager(sink: TokenAuditLogger(logger: logger, maximumRepeatedFailuresPerSecond: 5))
        let address = IPAddress("192.0.2.1")
        for _ in 0..<100 {
            _ = try await manager.validate(authorization: "Bearer nonsense", from: address)
        }
        #expect(handler.entries.count == 5)
        try await Task.sleep(for: .milliseconds(1_100))
        _ = try await manager.validate(authorization: "Bearer nonsense", from: address)
        let summary = try #require(handler.entries.first { $0.message.description.hasSuffix(".suppressed") })
        #expect(summary.metadata["count"]?.description == "95")
        #expect(summary.metadata["client.address"]?.description == "192.0.2.1")
        #expect(handler.entries.count == 7)
    }

    /// At shutdown the last second's held-back count is written, not lost.
    @Test func flushWritesWhatWasHeldBack() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let sink = TokenAuditLogger(logger: logger, maximumRepeatedFailuresPerSecond: 2)
        let manager = manager(sink: sink)
        for _ in 0..<10 {
            _ = try await manager.validate(authorization: "Bearer nonsense", from: IPAddress("192.0.2.1"))
        }
        #expect(handler.entries.count == 2)
        sink.flush()
        let summary = try #require(handler.entries.last)
        #expect(summary.message.description == "token.validation_failed.suppressed")
        #expect(summary.metadata["count"]?.description == "8")
        sink.flush()
        #expect(handler.entries.count == 3)
    }

    @Test func countersFollowValidationsAndLifecycleEvents() async throws {
        let metrics = TestMetrics()
        let tokenMetrics = TokenMetrics(factory: metrics)
        let manager = manager(sink: tokenMetrics)
        let issued = try await manager.create(owner: "alice", name: "ci")
        _ = try await manager.rotate(owner: "alice", name: "ci")
        try await manager.revoke(owner: "alice", name: "ci")
        tokenMetrics.recordValidation(.valid(issued.record))
        tokenMetrics.recordValidation(.rejected(.revoked))
        tokenMetrics.recordValidation(.rejected(.revoked))
        tokenMetrics.recordThrottled()
        #expect(metrics.counterTotal(label: "tokenkit_tokens_created_total") == 1)
        #expect(metrics.counterTotal(label: "tokenkit_tokens_rotated_total") == 1)
        #expect(metrics.counterTotal(label: "tokenkit_tokens_revoked_total") == 1)
        #expect(metrics.counterTotal(label: "tokenkit_validations_total", dimensions: [("outcome", "valid")]) == 1)
        #expect(
            metrics.counterTotal(
                label: "tokenkit_validations_total",
                dimensions: [("outcome", "rejected"), ("reason", "revoked")]
            ) == 2
        )
        #expect(metrics.counterTotal(label: "tokenkit_authentications_throttled_total") == 1)
    }
}
