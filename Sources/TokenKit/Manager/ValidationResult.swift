/// The outcome of validating a presented token.
///
/// ```swift
/// switch try await manager.validate(token) {
/// case .valid(let record): print("hello, \(record.owner)")
/// case .rejected(let reason): logger.info("token rejected: \(reason)")
/// }
/// ```
///
/// Or let ``authenticated()`` turn every rejection into one answer for the client:
///
/// ```swift
/// let record = try await manager.validate(authorization: header).authenticated()
/// ```
public enum ValidationResult: Hashable, Sendable {
    /// The token is valid; here is its record.
    case valid(TokenRecord)
    /// The token was rejected, for this reason.
    case rejected(RejectionReason)

    /// The record of a valid token, or `nil`.
    public var record: TokenRecord? {
        if case .valid(let record) = self { return record }
        return nil
    }

    /// Returns the record of a valid token, or throws the single ``AuthenticationFailure`` that
    /// stands for every rejection, as cPanel treats a bad token as one that does not exist.
    public func authenticated() throws(AuthenticationFailure) -> TokenRecord {
        guard case .valid(let record) = self else { throw AuthenticationFailure() }
        return record
    }
}

/// The one failure a client is told about, whatever was wrong with its token: HTTP 401.
///
/// It deliberately carries no reason. Audit events carry the reason for your own logs.
public struct AuthenticationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status to answer with: 401 Unauthorized.
    public let httpStatus = 401

    /// Creates the failure.
    public init() {}

    /// The one message a client may be shown.
    public var description: String { "Authentication failed: the API token is not valid." }
}
