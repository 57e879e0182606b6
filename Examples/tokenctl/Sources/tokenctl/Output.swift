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
}
