import TokenKit

/// A notification on the store's channel: what changed, or an instance's heartbeat.
///
/// Every write sends ``forget(_:)`` with the digests of the records it adds, changes or removes,
/// with `pg_notify` in its own transaction, so the notification is delivered when, and only if,
/// the change commits — in commit order. (Caches keep absences too, so an insert is announced.)
enum ChangeMessage: Equatable {
    /// These records changed or were removed.
    case forget([TokenDigest])
    /// More records changed than one notification can name: forget everything.
    case forgetAll
    /// A heartbeat of the instance `instance`, number `sequence`.
    case heartbeat(instance: String, sequence: UInt64)

    /// Digests per notification: PostgreSQL's payload limit is 8000 bytes, a digest takes 65.
    static let digestsPerNotification = 100
    /// Above this many changed records a write sends ``forgetAll`` instead of naming them.
    static let maximumNamedDigests = 2_000

    /// The notifications that announce a change to `digests`.
    static func payloads(forChanged digests: [TokenDigest]) -> [String] {
        if digests.isEmpty { return [] }
        if digests.count > maximumNamedDigests { return [forgetAll.payload] }
        return stride(from: 0, to: digests.count, by: digestsPerNotification).map { start in
            ChangeMessage.forget(Array(digests[start..<min(start + digestsPerNotification, digests.count)])).payload
        }
    }

    /// The notification's text.
    var payload: String {
        switch self {
        case .forget(let digests): "f " + digests.map(\.hex).joined(separator: ",")
        case .forgetAll: "*"
        case .heartbeat(let instance, let sequence): "h \(instance) \(sequence)"
        }
    }

    /// Parses a notification; `nil` for text no TokenKit instance sends.
    init?(payload: String) {
        if payload == "*" {
            self = .forgetAll
        } else if payload.hasPrefix("f ") {
            var digests: [TokenDigest] = []
            for hex in payload.dropFirst(2).split(separator: ",") {
                guard let digest = TokenDigest(hex: String(hex)) else { return nil }
                digests.append(digest)
            }
            self = .forget(digests)
        } else if payload.hasPrefix("h ") {
            let parts = payload.split(separator: " ")
            guard parts.count == 3, let sequence = UInt64(parts[2]) else { return nil }
            self = .heartbeat(instance: String(parts[1]), sequence: sequence)
        } else {
            return nil
        }
    }
}
