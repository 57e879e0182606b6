import Foundation

/// An operation's log entries and its answer, computed by a `TokenIndex.plan…` method without
/// changing the index: a store applies the entries (after making them durable) and returns the
/// answer.
struct IndexPlan<Answer> {
    var entries: [LogEntry]
    var answer: Answer
}

extension TokenIndex {
    // MARK: Queries

    /// The records that expire in `start ..< end` and are not revoked by `start`, soonest first.
    func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        allRecords.filter { TokenStoreRules.isExpiring($0, between: start, and: end) }
            .sorted(by: TokenStoreRules.expiresSooner)
    }

    // MARK: Planning writes

    func planBindHasher(_ identity: TokenHasherIdentity) throws(TokenKitError) -> IndexPlan<Void> {
        try identity.check()
        guard let hasher else { return IndexPlan(entries: [.hasher(identity)], answer: ()) }
        guard hasher == identity else { throw .hasherMismatch(stored: hasher, given: identity) }
        return IndexPlan(entries: [], answer: ())
    }

    func planInsert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws(TokenKitError) -> IndexPlan<Void> {
        try TokenStoreRules.checkNewRecord(record)
        guard !holds(id: record.id, orDigest: record.digest) else { throw .duplicateToken(id: record.id) }
        let siblings = unorderedRecords(owner: record.owner)
        if record.holdsName, siblings.contains(where: { $0.holdsName && $0.name == record.name }) {
            throw .duplicateName(record.name, renaming: false)
        }
        if let limit = maximumLiveTokensPerOwner {
            let live = siblings.count { TokenStoreRules.isLive($0, at: record.createdAt) }
            guard live < limit else { throw .tokenLimitReached(owner: record.owner, limit: limit) }
        }
        return IndexPlan(entries: [.put(record)], answer: ())
    }

    func planRename(owner: String, name: String, to newName: String) throws(TokenKitError) -> IndexPlan<TokenRecord> {
        try TokenStoreRules.checkName(newName)
        let siblings = unorderedRecords(owner: owner)
        guard var holder = siblings.first(where: { $0.holdsName && $0.name == name }) else {
            throw .tokenNotFound(owner: owner, name: name)
        }
        if newName != name, siblings.contains(where: { $0.holdsName && $0.name == newName }) {
            throw .duplicateName(newName, renaming: true)
        }
        holder.name = newName
        return IndexPlan(entries: [.put(holder)], answer: holder)
    }

    func planRevoke(owner: String, name: String, at date: Date) throws(TokenKitError) -> IndexPlan<LineageChange> {
        try TokenStoreRules.checkDate(date)
        return try planLineageChange(owner: owner, name: name, now: date) { TokenStoreRules.revoked($0, at: date) }
    }

    func planRevoke(id: TokenID, at date: Date) throws(TokenKitError) -> IndexPlan<LineageChange> {
        try TokenStoreRules.checkDate(date)
        guard let record = record(id: id) else { throw .tokenNotFound(id: id) }
        let predecessors = unorderedRecords(owner: record.owner)
            .filter { TokenStoreRules.precedes($0, record, at: date) }
            .sorted(by: TokenStoreRules.isOlder)
            .map { TokenStoreRules.revoked($0, at: date) }
        let revoked = TokenStoreRules.revoked(record, at: date)
        return IndexPlan(
            entries: ([revoked] + predecessors).map(LogEntry.put),
            answer: LineageChange(token: revoked, predecessors: predecessors)
        )
    }

    func planSetDisabled(
        owner: String,
        name: String,
        at date: Date?,
        now: Date
    ) throws(TokenKitError) -> IndexPlan<LineageChange> {
        if let date { try TokenStoreRules.checkDate(date) }
        return try planLineageChange(owner: owner, name: name, now: now) { TokenStoreRules.disabled($0, at: date) }
    }

    func planChangeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) throws(TokenKitError) -> IndexPlan<LineageChange> {
        try TokenStoreRules.checkLimits(change)
        return try planLineageChange(owner: owner, name: name, now: now) { TokenStoreRules.limited($0, by: change) }
    }

    func planDelete(owner: String, name: String, now: Date) throws(TokenKitError) -> IndexPlan<LineageChange> {
        try planLineageChange(owner: owner, name: name, now: now) { _ in nil }
    }

    /// Applies `change` to the record of `owner` holding `name` and to its predecessors in grace at
    /// `now`; `change` returns `nil` to remove a record.
    private func planLineageChange(
        owner: String,
        name: String,
        now: Date,
        _ change: (TokenRecord) -> TokenRecord?
    ) throws(TokenKitError) -> IndexPlan<LineageChange> {
        let siblings = unorderedRecords(owner: owner)
        guard let holder = siblings.first(where: { $0.holdsName && $0.name == name }) else {
            throw .tokenNotFound(owner: owner, name: name)
        }
        let predecessors = siblings.filter { TokenStoreRules.followsHolder($0, holder, at: now) }
            .sorted(by: TokenStoreRules.isOlder)
        var entries: [LogEntry] = []
        var written: [TokenRecord] = []
        for record in [holder] + predecessors {
            if let changed = change(record) {
                entries.append(.put(changed))
                written.append(changed)
            } else {
                entries.append(.remove(record.id))
                written.append(record)
            }
        }
        return IndexPlan(
            entries: entries,
            answer: LineageChange(token: written[0], predecessors: Array(written.dropFirst()))
        )
    }

    func planRotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    ) throws(TokenKitError) -> IndexPlan<LineageChange> {
        try TokenStoreRules.checkDate(successor.createdAt)
        try TokenStoreRules.checkDate(graceEnd)
        if case .at(let date) = successor.expiry { try TokenStoreRules.checkDate(date) }
        guard let holder = unorderedRecords(owner: owner).first(where: { $0.holdsName && $0.name == name }) else {
            throw .tokenNotFound(owner: owner, name: name)
        }
        guard !holds(id: successor.id, orDigest: successor.digest) else { throw .duplicateToken(id: successor.id) }
        let previous = TokenStoreRules.revoked(holder, at: graceEnd)
        let new = TokenStoreRules.successor(of: holder, successor)
        return IndexPlan(
            entries: [.put(previous), .put(new)],
            answer: LineageChange(token: new, predecessors: [previous])
        )
    }

    func planDelete(id: TokenID) throws(TokenKitError) -> IndexPlan<TokenRecord> {
        guard let record = record(id: id) else { throw .tokenNotFound(id: id) }
        return IndexPlan(entries: [.remove(id)], answer: record)
    }

    func planRevokeAll(owner: String, at date: Date) throws(TokenKitError) -> IndexPlan<[TokenRecord]> {
        try TokenStoreRules.checkDate(date)
        let revoked = records(owner: owner)
            .filter { $0.holdsName || TokenStoreRules.isInGrace($0, at: date) }
            .map { TokenStoreRules.revoked($0, at: date) }
        return IndexPlan(entries: revoked.map(LogEntry.put), answer: revoked)
    }

    func planPurge(before cutoff: Date) -> IndexPlan<[TokenRecord]> {
        let purged = allRecords.filter { TokenStoreRules.isPurged($0, before: cutoff) }
        return IndexPlan(entries: purged.map { .remove($0.id) }, answer: purged)
    }

    func planRecordUse(_ uses: [TokenID: Date]) throws(TokenKitError) -> IndexPlan<Void> {
        var entries: [LogEntry] = []
        for (id, date) in uses {
            try TokenStoreRules.checkDate(date)
            guard var record = record(id: id), record.lastUsedAt.map({ $0 < date }) ?? true else { continue }
            record.lastUsedAt = date
            entries.append(.put(record))
        }
        return IndexPlan(entries: entries, answer: ())
    }
}
