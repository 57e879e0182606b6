/// A newly created token: its record, and its secret, which is shown this once and never again.
///
/// Hand ``secret`` to the user ("copy it to a discreet location") and drop the value: TokenKit
/// stores only the secret's digest, so it cannot show it again. Printing, interpolating, logging
/// or dumping an issued token shows `<redacted>` in place of the secret.
public struct IssuedToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The token's record, as stored.
    public let record: TokenRecord
    /// The token's secret text, which the client presents. Read it only to give it to the user.
    public let secret: String

    init(record: TokenRecord, secret: String) {
        self.record = record
        self.secret = secret
    }

    /// The record's id, owner and name, with the secret redacted.
    public var description: String {
        "IssuedToken(id: \(record.id), owner: \(record.owner), name: \(record.name), secret: <redacted>)"
    }

    /// The same as ``description``: the secret redacted.
    public var debugDescription: String { description }

    /// A mirror for `dump` and debuggers, with the secret redacted.
    public var customMirror: Mirror {
        Mirror(self, children: ["record": record, "secret": "<redacted>"], displayStyle: .struct)
    }
}
