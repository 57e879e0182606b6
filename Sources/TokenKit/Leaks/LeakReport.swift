import Foundation

/// A report of tokens found where they should not be — public repositories, gists, packages — in
/// the shape GitHub's secret-scanning partner program sends:
/// `[{"token": "…", "type": "…", "url": "…", "source": "…"}]`.
///
/// Decode one with ``init(json:maximumMatches:)`` and hand it to
/// ``TokenManager/revokeLeakedTokens(_:)``, which revokes what it can and answers with the
/// verdicts GitHub expects back. The framework adapters' endpoint verifies GitHub's signature
/// first; do not act on a report whose signature was not checked.
public struct LeakReport: Sendable, Hashable {
    /// One token found.
    public struct Match: Sendable, Hashable, Decodable {
        /// The text found, which may or may not be one of this server's tokens.
        public let token: String
        /// The token type the scanner was told about, echoed back in the verdict.
        public let type: String
        /// Where it was found, if the scanner said.
        public let url: String?
        /// What kind of place it was found in (`content`, `commit`, `npm`…), if the scanner said.
        public let source: String?

        /// Creates a match.
        public init(token: String, type: String, url: String? = nil, source: String? = nil) {
            self.token = token
            self.type = type
            self.url = url
            self.source = source
        }
    }

    /// The matches, in the order reported.
    public let matches: [Match]

    /// The most matches a report may hold by default.
    public static let defaultMaximumMatches = 1_000

    /// Creates a report.
    public init(matches: [Match]) {
        self.matches = matches
    }

    /// Decodes a report from its JSON body.
    ///
    /// - Parameters:
    ///   - json: The raw request body.
    ///   - maximumMatches: The most matches accepted, bounding the work one report causes.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/malformedLeakReport`` when the body
    ///   is not such a JSON array or holds more matches than allowed.
    public init(json: Data, maximumMatches: Int = LeakReport.defaultMaximumMatches) throws(TokenKitError) {
        let matches: [Match]
        do {
            matches = try JSONDecoder().decode([Match].self, from: json)
        } catch {
            throw TokenKitError(
                .malformedLeakReport,
                "The leak report is not a JSON array of {\"token\", \"type\", \"url\", \"source\"} objects.",
                underlyingError: error
            )
        }
        guard matches.count <= maximumMatches else {
            throw TokenKitError(
                .malformedLeakReport,
                "The leak report holds \(matches.count) matches; at most \(maximumMatches) are accepted at once."
            )
        }
        self.matches = matches
    }
}

/// What a leak report's match turned out to be, in the shape GitHub's partner program expects back:
/// `{"token_hash": "<SHA-256 hex of the token>", "token_type": "…", "label": "true_positive"}`.
public struct LeakVerdict: Sendable, Hashable, Encodable {
    /// Whether the match was one of this server's tokens.
    public enum Label: String, Sendable, Hashable, Encodable {
        /// A token of this server (revoked now, or already).
        case truePositive = "true_positive"
        /// Not a token of this server.
        case falsePositive = "false_positive"
    }

    /// SHA-256 of the reported text, as 64 lowercase hex digits: the match, without its secret.
    public let tokenHash: String
    /// The type the match was reported with.
    public let tokenType: String
    /// The verdict.
    public let label: Label

    /// Creates a verdict.
    public init(tokenHash: String, tokenType: String, label: Label) {
        self.tokenHash = tokenHash
        self.tokenType = tokenType
        self.label = label
    }

    private enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash"
        case tokenType = "token_type"
        case label
    }

    /// The verdicts as the JSON array GitHub expects in reply.
    public static func json(_ verdicts: [LeakVerdict]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Strings and a two-case enum always encode; the fallback only keeps the function total.
        return (try? encoder.encode(verdicts)) ?? Data("[]".utf8)
    }
}
