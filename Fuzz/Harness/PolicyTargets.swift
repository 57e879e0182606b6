// The policies target: the name policy, the store's input rules, date normalization and the
// expiry policy, on values built from raw bytes (dates from 8 bytes as a Double bit pattern).

import Foundation

func fuzzPolicies(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    checkNames(&input)
    checkOwnerAndScopes(&input)
    for _ in 0..<2 { checkDate(Date(timeIntervalSinceReferenceDate: Double(bitPattern: input.u64()))) }
    checkDate(Date(timeIntervalSince1970: Double(bitPattern: input.u64())))
    checkMicroseconds(Int64(bitPattern: input.u64()))
    checkExpiry(&input)
}

/// A string of up to 300 bytes: past the 255-byte limits.
private func longText(_ input: inout FuzzInput) -> String {
    String(decoding: input.take(Int(input.u16() % 301)), as: UTF8.self)
}

private func checkNames(_ input: inout FuzzInput) {
    let name = longText(&input)
    let allowed = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8))
    let policyAccepts = (try? NamePolicy.cPanel.validate(name)) != nil
    let expected = (1...50).contains(name.utf8.count) && name.utf8.allSatisfy(allowed.contains)
    guard policyAccepts == expected else {
        fuzzFailure("NamePolicy.cPanel \(policyAccepts ? "accepts" : "refuses") \(name.debugDescription)")
    }
    let storeAccepts = (try? TokenStoreRules.checkName(name)) != nil
    if policyAccepts, !storeAccepts { fuzzFailure("the store refuses a name cPanel's policy accepts") }
    if storeAccepts, name.isEmpty || name.utf8.count > TokenStoreRules.maximumNameLength {
        fuzzFailure("checkName accepts a name of \(name.utf8.count) bytes")
    }
    // A policy built from the input: the error must be a configuration error, never a trap.
    let maximumLength = Int(Int16(bitPattern: input.u16()))
    let punctuation = input.text(maximum: 8)
    if let policy = try? NamePolicy(maximumLength: maximumLength, punctuation: punctuation) {
        _ = policy.rule
        if (try? policy.validate(name)) != nil, name.utf8.count > maximumLength || name.isEmpty {
            fuzzFailure("a policy of at most \(maximumLength) accepts \(name.utf8.count) bytes")
        }
    }
}

private func checkOwnerAndScopes(_ input: inout FuzzInput) {
    let owner = longText(&input)
    if (try? TokenStoreRules.checkOwner(owner)) != nil {
        guard !owner.isEmpty, owner.utf8.count <= TokenStoreRules.maximumOwnerLength, !owner.contains(":") else {
            fuzzFailure("checkOwner accepts \(owner.debugDescription)")
        }
    }
    var scopes: Set<String> = []
    let count = Int(input.u8())
    for _ in 0..<count where !input.isAtEnd { scopes.insert(input.text(maximum: 70)) }
    if (try? TokenStoreRules.checkScopes(scopes)) != nil {
        guard scopes.count <= TokenStoreRules.maximumScopes,
            scopes.allSatisfy({ (1...TokenStoreRules.maximumScopeLength).contains($0.utf8.count) })
        else { fuzzFailure("checkScopes accepts \(scopes.count) scopes, or one of a bad length") }
    }
}

/// `checkDate`, `normalized` and `microsecondsSince1970` agree, and normalizing is idempotent.
private func checkDate(_ date: Date) {
    let storable = (try? TokenStoreRules.checkDate(date)) != nil
    guard storable == TokenStoreRules.isStorable(date) else { fuzzFailure("checkDate and isStorable disagree") }
    let micros = try? TokenStoreRules.microsecondsSince1970(date)
    guard let normalized = try? TokenStoreRules.normalized(date) else {
        if storable || micros != nil { fuzzFailure("\(date.timeIntervalSince1970) is storable but not normalizable") }
        return
    }
    guard let micros else { fuzzFailure("normalized(_:) accepts a date microsecondsSince1970 refuses") }
    if storable, normalized != date { fuzzFailure("a storable date changes when normalized") }
    guard TokenStoreRules.isStorable(normalized) else {
        fuzzFailure("normalized(\(date.timeIntervalSince1970)) = \(normalized.timeIntervalSince1970) is not storable")
    }
    guard (try? TokenStoreRules.normalized(normalized)) == normalized else {
        fuzzFailure("normalized is not idempotent")
    }
    guard (try? TokenStoreRules.date(microsecondsSince1970: micros)) == normalized else {
        fuzzFailure("date(microsecondsSince1970: \(micros)) is not the normalized date")
    }
    guard TokenStoreRules.dateRange.contains(normalized) else { fuzzFailure("a normalized date left the range") }
}

/// `date(microsecondsSince1970:)` on any Int64: accepted exactly inside `dateRange` (whose end is
/// 9999-12-31T23:59:59.000000Z); what it gives is storable, and exactly the inverse of
/// `microsecondsSince1970` while a Double tells microseconds apart.
private func checkMicroseconds(_ micros: Int64) {
    guard let date = try? TokenStoreRules.date(microsecondsSince1970: micros) else {
        if (0...253_402_300_799_000_000).contains(micros) { fuzzFailure("\(micros) µs is in range but refused") }
        return
    }
    guard TokenStoreRules.isStorable(date) else {
        fuzzFailure("date(microsecondsSince1970: \(micros)) is not storable")
    }
    guard let back = try? TokenStoreRules.microsecondsSince1970(date) else {
        fuzzFailure("microsecondsSince1970 refuses date(microsecondsSince1970: \(micros))")
    }
    // Exact before 2200 (7,258,118,400 s); later, a Double's spacing exceeds a microsecond.
    if micros < 7_258_118_400_000_000, back != micros {
        fuzzFailure("\(micros) µs comes back as \(back)")
    }
}

/// `ExpiryPolicy.expiryDate(for:now:)` with every kind of expiry, for the default policy and one
/// built from the input. A date it returns must be one a store can keep (issue 15, defect 2).
private func checkExpiry(_ input: inout FuzzInput) {
    let now = Date(timeIntervalSinceReferenceDate: Double(bitPattern: input.u64()))
    let normalizedNow = (try? TokenStoreRules.normalized(now)) ?? FuzzValues.now
    let expiries: [TokenExpiry] = [
        .policyDefault,
        .never,
        .at(Date(timeIntervalSinceReferenceDate: Double(bitPattern: input.u64()))),
        .after(duration(&input)),
        .after(.seconds(Int64(bitPattern: input.u64()))),
    ]
    var policies = [ExpiryPolicy.default]
    let allowsNever = input.bool()
    let defaultLifetime: Duration? = input.bool() ? duration(&input) : nil
    let maximumLifetime: Duration? = input.bool() ? duration(&input) : nil
    if let custom = try? ExpiryPolicy(
        allowsNeverExpiring: allowsNever,
        defaultLifetime: defaultLifetime,
        maximumLifetime: maximumLifetime
    ) {
        policies.append(custom)
    }
    for policy in policies {
        for expiry in expiries {
            for now in [now, normalizedNow] {
                let result: Date?
                do {
                    result = try policy.expiryDate(for: expiry, now: now)
                } catch {
                    continue
                }
                guard let result else {
                    guard policy.allowsNeverExpiring else { fuzzFailure("\(expiry) gave no expiry under \(policy)") }
                    continue
                }
                guard TokenStoreRules.isStorable(result) else {
                    fuzzFailure(
                        "expiryDate(for: \(expiry), now: \(now.timeIntervalSince1970)) = \(result.timeIntervalSince1970) cannot be stored"
                    )
                }
            }
        }
    }
}

/// A duration from raw bytes: any seconds, attoseconds within a second either way.
private func duration(_ input: inout FuzzInput) -> Duration {
    let seconds = Int64(bitPattern: input.u64())
    let attoseconds = Int64(bitPattern: input.u64()) % 1_000_000_000_000_000_000
    return Duration(secondsComponent: seconds, attosecondsComponent: attoseconds)
}
