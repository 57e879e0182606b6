/// The rule a token name must follow.
///
/// The default is cPanel's: 1 to 50 characters of `A-Z`, `a-z`, `0-9`, `_` and `-`
/// (`^[A-Za-z0-9_-]{1,50}$`). Names are unique per owner among tokens that are not revoked; the store
/// enforces that, atomically.
public struct NamePolicy: Hashable, Sendable {
    /// cPanel's rule: `^[A-Za-z0-9_-]{1,50}$`.
    public static let cPanel = NamePolicy(validMaximumLength: 50, punctuation: "_-")

    /// The longest name allowed, in characters.
    public let maximumLength: Int
    /// The ASCII punctuation allowed besides letters and digits.
    public let punctuation: String
    private let punctuationBytes: Set<UInt8>

    /// Creates a name policy: names of 1 to `maximumLength` ASCII letters, digits and the characters
    /// of `punctuation`.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidConfiguration`` when
    ///   `maximumLength` is not 1...255 or `punctuation` holds anything but printable ASCII
    ///   punctuation other than `:`.
    public init(maximumLength: Int = 50, punctuation: String = "_-") throws(TokenKitError) {
        guard (1...255).contains(maximumLength) else {
            throw TokenKitError(.invalidConfiguration, "A name policy's maximum length must be 1 to 255.")
        }
        guard
            punctuation.utf8.allSatisfy({ $0 != UInt8(ascii: ":") && (0x21...0x7e).contains($0) && !isAlphanumeric($0) }
            )
        else {
            throw TokenKitError(
                .invalidConfiguration,
                "A name policy's punctuation must be printable ASCII symbols other than \":\"."
            )
        }
        self.init(validMaximumLength: maximumLength, punctuation: punctuation)
    }

    private init(validMaximumLength maximumLength: Int, punctuation: String) {
        self.maximumLength = maximumLength
        self.punctuation = punctuation
        self.punctuationBytes = Set(punctuation.utf8)
    }

    /// Checks `name` against the policy.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidName``.
    public func validate(_ name: String) throws(TokenKitError) {
        let utf8 = name.utf8
        guard !utf8.isEmpty, utf8.count <= maximumLength,
            utf8.allSatisfy({ isAlphanumeric($0) || punctuationBytes.contains($0) })
        else {
            throw TokenKitError(.invalidName, "\(quoted(name)) is not a valid API token name: \(rule).")
        }
    }

    /// The rule in words, for messages.
    public var rule: String {
        let symbols = punctuation.map { "“\($0)”" }
        let allowed = (["A-Z", "a-z", "0-9"] + symbols)
        return
            "use 1 to \(maximumLength) characters of \(allowed.dropLast().joined(separator: ", ")) and \(allowed.last!)"
    }

    /// Whether two policies accept the same names.
    public static func == (lhs: NamePolicy, rhs: NamePolicy) -> Bool {
        lhs.maximumLength == rhs.maximumLength && lhs.punctuationBytes == rhs.punctuationBytes
    }

    /// Hashes the parts that decide which names are accepted.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(maximumLength)
        hasher.combine(punctuationBytes)
    }
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "a")...UInt8(ascii: "z"):
        true
    default:
        false
    }
}

/// `text` in quotes for a message, cut short and escaped with ``LogText/escaped(_:)``.
func quoted(_ text: String) -> String {
    let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
    return "\"" + LogText.escaped(shown) + "\""
}
