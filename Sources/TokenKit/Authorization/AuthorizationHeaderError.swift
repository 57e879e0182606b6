/// Why an `Authorization` header value is not one TokenKit accepts.
public struct AuthorizationHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case empty
            case unsupportedScheme = "unsupported_scheme"
            case missingCredentials = "missing_credentials"
            case missingUser = "missing_user"
            case malformedCredentials = "malformed_credentials"
        }

        private let base: Base

        /// The header is empty or only spaces and tabs (at any length).
        public static let empty = Reason(base: .empty)
        /// The scheme is not `Bearer`, `cpanel` or `whm`.
        public static let unsupportedScheme = Reason(base: .unsupportedScheme)
        /// The scheme has nothing after it.
        public static let missingCredentials = Reason(base: .missingCredentials)
        /// A `cpanel` or `whm` header lacks the `USER:` part.
        public static let missingUser = Reason(base: .missingUser)
        /// The credentials hold white space, an empty token, or are over 8 KiB.
        public static let malformedCredentials = Reason(base: .malformedCredentials)

        /// A stable, machine-readable name, such as `"unsupported_scheme"`.
        public var code: String { base.rawValue }

        /// The reason's stable code.
        public var description: String { code }
    }

    /// What is wrong with the header.
    public let reason: Reason

    /// Creates an error with `reason`, for tests and for parsers built on TokenKit's.
    public init(_ reason: Reason) {
        self.reason = reason
    }

    /// What is wrong and what to do, for people.
    public var description: String {
        switch reason {
        case .empty: "The Authorization header is empty."
        case .unsupportedScheme: "The Authorization header must use the Bearer, cpanel or whm scheme."
        case .missingCredentials: "The Authorization header has a scheme but no credentials after it."
        case .missingUser: "A cpanel or whm Authorization header must have the form \"cpanel USER:TOKEN\"."
        default: "The Authorization header's credentials are malformed."
        }
    }
}
