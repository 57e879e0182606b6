import Foundation
import TokenKit

/// Writing results: plain text for people, or JSON with cPanel's field names for programs.
enum Output {
    static func printJSON(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("null".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func unixSeconds(_ date: Date?) -> Any {
        date.map { Int($0.timeIntervalSince1970) } ?? NSNull()
    }

    static func text(_ date: Date?) -> String {
        date.map { $0.formatted(.iso8601) } ?? "never"
    }

    /// A new token, as `create` and `rotate` print it: the secret once, with the warning.
    static func printIssued(_ issued: IssuedToken, json: Bool, extra: [String: Any] = [:]) {
        let record = issued.record
        if json {
            var object: [String: Any] = [
                "token": issued.secret,
                "name": record.name,
                "user": record.owner,
                "create_time": unixSeconds(record.createdAt),
                "expires_at": unixSeconds(record.expiresAt),
                "scopes": record.scopes.sorted(),
            ]
            object.merge(extra) { _, new in new }
            printJSON(object)
        } else {
            print("API token \"\(record.name)\" for \(record.owner), expires \(text(record.expiresAt)).")
            print(issued.secret)
            print("Copy it now to a discreet location — it cannot be shown again.")
        }
    }

    /// A record as `list --json` shows it: never a token or a digest.
    static func listing(_ record: TokenRecord, now: Date) -> [String: Any] {
        [
            "name": record.name,
            "create_time": unixSeconds(record.createdAt),
            "expires_at": unixSeconds(record.expiresAt),
            "last_used": unixSeconds(record.lastUsedAt),
            "status": record.status(at: now).rawValue,
            "scopes": record.scopes.sorted(),
            "allowed_networks": record.allowedNetworks.map(\.description),
        ]
    }

    /// A record of any owner, as `purge --json` shows it: the listing and the user.
    static func owned(_ record: TokenRecord, now: Date) -> [String: Any] {
        listing(record, now: now).merging(["user": record.owner]) { _, new in new }
    }

    /// A by-name change, as `disable`, `enable`, `update`, `revoke` and `delete` report it: what was
    /// done to the token, and how many rotated-out predecessors in their grace period it also
    /// applied to. With `json`, the token as written with its user and its predecessors.
    static func printChange(_ change: LineageChange, _ done: String, json: Bool, details: String? = nil) {
        let now = Date()
        if json {
            var object = owned(change.token, now: now)
            object["predecessors"] = change.predecessors.map { listing($0, now: now) }
            printJSON(object)
            return
        }
        let heading = "\(done.prefix(1).uppercased())\(done.dropFirst()) the API token \"\(change.token.name)\""
        print(details.map { "\(heading): \($0)." } ?? "\(heading).")
        let count = change.predecessors.count
        if count > 0 {
            print(
                "Also \(done) \(count) rotated-out predecessor\(count == 1 ? "" : "s") still in "
                    + "\(count == 1 ? "its" : "their") grace period."
            )
        }
    }

    /// A token's limits for people: `expires 2027-01-31T23:59:59Z, scopes dns,email, from anywhere`.
    static func limits(_ record: TokenRecord) -> String {
        let scopes = record.scopes.isEmpty ? "full access" : "scopes " + record.scopes.sorted().joined(separator: ",")
        let networks =
            record.allowedNetworks.isEmpty
            ? "from anywhere" : "from " + record.allowedNetworks.map(\.description).joined(separator: ",")
        return "expires \(text(record.expiresAt)), \(scopes), \(networks)"
    }
}
