// The leak-report target (issue 14): LeakReport(json:) on arbitrary bytes, then
// TokenManager.revokeLeakedTokens against an in-memory store holding some known secrets.

import Foundation
import Synchronization

/// Keeps the audit events of one input (or, in the validation target, of every input).
final class CollectingSink: TokenAuditSink {
    let events = Mutex<[TokenAuditEvent]>([])
    func record(_ event: TokenAuditEvent) { events.withLock { $0.append(event) } }

    /// The events kept so far, which the sink then forgets.
    func takeAll() -> [TokenAuditEvent] {
        events.withLock { events in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
    }
}

/// Known secrets 0–2 are stored (secret 2 already revoked); the others are not.
private let storedSecrets = 0..<3

func fuzzLeakReport(_ bytes: [UInt8]) {
    let report: LeakReport
    do {
        report = try LeakReport(json: Data(bytes))
    } catch {
        guard error.code == .malformedLeakReport else { fuzzFailure("LeakReport(json:) threw \(error.code)") }
        return
    }
    guard report.matches.count <= LeakReport.defaultMaximumMatches else {
        fuzzFailure("a report of \(report.matches.count) matches was accepted")
    }
    runAsync { await checkRevocation(report) }
}

private func checkRevocation(_ report: LeakReport) async {
    let store = InMemoryTokenStore()
    let sink = CollectingSink()
    let manager = TokenManager(store: store, configuration: .init(clock: FuzzClock(), auditSink: sink))
    let owners = ["alice", "bob", "carol"]
    do {
        for index in storedSecrets {
            let record = TokenRecord(
                id: TokenID(high: UInt64(index), low: 0x1ea4),
                owner: owners[index],
                name: "leaky",
                createdAt: FuzzValues.now - 3_600,
                expiresAt: nil,
                revokedAt: index == 2 ? FuzzValues.now - 60 : nil,
                digest: FuzzValues.digests[index]
            )
            try store.insert(record, maximumLiveTokensPerOwner: nil)
        }
        let verdicts = try await manager.revokeLeakedTokens(report)
        guard verdicts.count == report.matches.count else {
            fuzzFailure("\(report.matches.count) matches got \(verdicts.count) verdicts")
        }
        for (match, verdict) in zip(report.matches, verdicts) {
            guard verdict.tokenHash == SHA256Hasher().digest(of: match.token).hex, verdict.tokenType == match.type
            else {
                fuzzFailure("a verdict does not echo its match's hash and type")
            }
            let stored = FuzzValues.secrets.firstIndex(of: match.token).map(storedSecrets.contains) ?? false
            guard (verdict.label == .truePositive) == stored else {
                fuzzFailure("a match is labelled \(verdict.label.rawValue), stored: \(stored)")
            }
            if stored, let index = FuzzValues.secrets.firstIndex(of: match.token) {
                guard let record = store.record(forDigest: FuzzValues.digests[index]),
                    record.isRevoked(at: FuzzValues.now)
                else { fuzzFailure("a reported token of this server is not revoked") }
            }
        }
        let reply = LeakVerdict.json(verdicts)
        guard let array = try? JSONSerialization.jsonObject(with: reply) as? [Any], array.count == verdicts.count else {
            fuzzFailure("LeakVerdict.json is not an array of \(verdicts.count) verdicts")
        }
    } catch {
        expectTokenKitError(error, "revokeLeakedTokens")
    }
    // Audit events never carry a reported secret (unless the report put it in url or source too).
    let echoed = report.matches.flatMap { [$0.url, $0.source].compactMap { $0 } }
    for event in sink.events.withLock({ $0 }) {
        let text = event.description + (event.detail ?? "")
        for secret in FuzzValues.secrets where text.contains(secret) && !echoed.contains(where: { $0.contains(secret) })
        {
            fuzzFailure("an audit event shows a secret: \(event.kind)")
        }
    }
}
