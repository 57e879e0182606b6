/// A token's stable, non-secret identifier: 128 random bits, written as 32 lowercase hex digits.
///
/// The id never changes, whatever the token is renamed to, so logs, audit events and stores can
/// refer to a token by it without ever holding its secret.
public struct TokenID: Hashable, Sendable, Comparable, LosslessStringConvertible {
    let high: UInt64
    let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates a new random id.
    public static func random() -> TokenID {
        var generator = SystemRandomWords(batch: 2)
        return TokenID(high: generator.next(), low: generator.next())
    }

    /// Parses 32 hexadecimal digits, as produced by ``description``.
    public init?(_ description: String) {
        let utf8 = Array(description.utf8)
        guard utf8.count == 32,
            let high = UInt64(String(decoding: utf8[0..<16], as: UTF8.self), radix: 16),
            let low = UInt64(String(decoding: utf8[16..<32], as: UTF8.self), radix: 16),
            utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
        else { return nil }
        self.init(high: high, low: low)
    }

    /// The id as 32 lowercase hexadecimal digits.
    public var description: String {
        hex(high) + hex(low)
    }

    /// Orders ids by their bits, for stable sorting.
    public static func < (lhs: TokenID, rhs: TokenID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
