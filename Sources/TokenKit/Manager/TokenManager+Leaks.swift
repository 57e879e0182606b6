import Foundation

extension TokenManager {
    // MARK: Leaked tokens

    /// Revokes every token of this server found in a leak report, with the rotated-out
    /// predecessors still in grace that it replaced, and says which matches were this server's.
    ///
    /// For each distinct text reported: one that is not a token of ``Configuration/format``, or
    /// whose digest no store record has, is a `false_positive`; a stored token is revoked at once
    /// (``TokenStore/revoke(id:at:)``) and audited as ``TokenAuditEvent/Kind/leaked`` — owner, id,
    /// url and source, never the secret — and is a `true_positive`, also when it was revoked
    /// already. A text reported twice is handled once. The report's size was bounded when it was
    /// decoded.
    ///
    /// Verify the report's signature before calling this: anyone can post a report.
    ///
    /// - Returns: One verdict per match, in the report's order.
    /// - Throws: Only when the store cannot be read or written.
    public func revokeLeakedTokens(_ report: LeakReport) async throws -> [LeakVerdict] {
        let now = try currentDate()
        var labels: [String: LeakVerdict.Label] = [:]
        for match in report.matches where labels[match.token] == nil {
            labels[match.token] = try await revokeIfLeaked(match, at: now)
        }
        return report.matches.map { match in
            LeakVerdict(
                tokenHash: SHA256Hasher().digest(of: match.token).hex,
                tokenType: match.type,
                label: labels[match.token] ?? .falsePositive
            )
        }
    }

    private func revokeIfLeaked(_ match: LeakReport.Match, at now: Date) async throws -> LeakVerdict.Label {
        do {
            try configuration.format.validate(match.token)
        } catch {
            return .falsePositive
        }
        try await bindHasherIfNeeded()
        guard let record = try await store.record(forDigest: configuration.hasher.digest(of: match.token)) else {
            return .falsePositive
        }
        let location = [
            match.url.map { "url=\(Self.reportText($0, hiding: match.token))" },
            match.source.map { "source=\(Self.reportText($0, hiding: match.token))" },
        ]
        .compactMap { $0 }.joined(separator: " ")
        if record.isRevoked(at: now) {
            audit(TokenAuditEvent(.leaked, time: now, record: record, detail: "already revoked; " + location))
            return .truePositive
        }
        do {
            let change = try await store.revoke(id: record.id, at: now)
            audit(change, TokenAuditEvent(.leaked, time: now, record: change.token, detail: "revoked; " + location))
        } catch let error as TokenKitError where error.code == .tokenNotFound {
            // Deleted between the look-up and the revoke: it was this server's, and is gone.
            audit(TokenAuditEvent(.leaked, time: now, record: record, detail: "deleted meanwhile; " + location))
        }
        return .truePositive
    }

    /// A url or source from a report, fit for an audit event: the reported secret, should the
    /// scanner have put it there too, hidden, and at most 512 characters.
    private static func reportText(_ text: String, hiding secret: String) -> String {
        let hidden = secret.isEmpty ? text : text.replacingOccurrences(of: secret, with: "<redacted>")
        return hidden.count > 512 ? String(hidden.prefix(512)) + "…" : hidden
    }
}
