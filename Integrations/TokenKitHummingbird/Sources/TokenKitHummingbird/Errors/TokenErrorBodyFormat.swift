/// How ``TokenErrorMiddleware`` writes error bodies.
public struct TokenErrorBodyFormat: Hashable, Sendable {
    private enum Base: Hashable, Sendable {
        case json
        case plainText
    }

    private let base: Base

    /// JSON in Hummingbird's error shape, with the stable code added:
    /// `{"error":{"code":"duplicate_name","message":"…"}}`; a 401's code is `unauthorized`.
    public static let json = TokenErrorBodyFormat(base: .json)
    /// Plain text: `message [code]` and a newline; a 401 is a bare `Unauthorized` line, as
    /// cPanel answers.
    public static let plainText = TokenErrorBodyFormat(base: .plainText)

    var isJSON: Bool { base == .json }
}
