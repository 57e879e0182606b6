import Foundation
import TokenKit

/// cPanel's UAPI `Tokens` module — `create_full_access`, `list`, `rename`, `revoke` — for an
/// authenticated user, free of any web framework: a server routes `/execute/Tokens/:function` to
/// ``call(_:user:parameters:)`` and sends back the JSON it returns, with HTTP 200, as cPanel does.
public struct UAPITokensModule: Sendable {
    /// The manager the functions act through.
    public let manager: TokenManager

    /// Creates the module.
    public init(manager: TokenManager) {
        self.manager = manager
    }

    /// Runs one function of the module.
    ///
    /// Mistakes a user can correct — a missing parameter, a taken name, an expiry out of range —
    /// answer cPanel's failed result object (`status` 0, `errors`).
    ///
    /// - Parameters:
    ///   - function: The function's name, from the URL.
    ///   - user: The authenticated user.
    ///   - parameters: The query string's and form body's parameters.
    /// - Returns: The UAPI result object, as JSON.
    /// - Throws: Only when storage fails (a ``TokenKit/TokenKitError`` whose
    ///   `code.suggestedHTTPStatus` is 500 or 503), for the server to answer with that status.
    public func call(_ function: String, user: String, parameters: [String: String]) async throws -> UAPIResult {
        do {
            switch function {
            case "create_full_access": return try await create(user: user, parameters)
            case "list": return try await list(user: user)
            case "rename": return try await rename(user: user, parameters)
            case "revoke": return try await revoke(user: user, parameters)
            default:
                return .failure(["The function \"\(function)\" does not exist in the module \"Tokens\"."])
            }
        } catch let error as TokenKitError where error.code.suggestedHTTPStatus < 500 {
            return .failure([error.message])
        } catch let error as ParameterError {
            return .failure([error.message])
        }
    }

    private func create(user: String, _ parameters: [String: String]) async throws -> UAPIResult {
        let name = try Self.required("name", parameters)
        var expiry = TokenExpiry.never  // cPanel's API: no expires_at, no expiry
        if let text = parameters["expires_at"], !text.isEmpty {
            guard let seconds = Int64(text) else {
                throw ParameterError(message: "The parameter \"expires_at\" must be a Unix time in seconds.")
            }
            expiry = .at(Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        let issued = try await manager.create(owner: user, name: name, expiry: expiry)
        return .success([
            "token": issued.secret,
            "create_time": Self.unixTime(issued.record.createdAt),
            "name": issued.record.name,
            "expires_at": issued.record.expiresAt.map(Self.unixTime) as Any? ?? NSNull(),
        ])
    }

    private func list(user: String) async throws -> UAPIResult {
        // cPanel lists every token that exists, expired ones included; revoked ones are gone.
        let records = try await manager.list(owner: user, including: [.active, .disabled, .expired])
        return .success(
            records.map { record -> [String: Any] in
                [
                    "name": record.name,
                    "create_time": Self.unixTime(record.createdAt),
                    "expires_at": record.expiresAt.map(Self.unixTime) as Any? ?? NSNull(),
                    "has_full_access": record.scopes.isEmpty ? 1 : 0,
                    "features": record.scopes.sorted(),
                ]
            }
        )
    }

    private func rename(user: String, _ parameters: [String: String]) async throws -> UAPIResult {
        try await manager.rename(
            owner: user,
            name: try Self.required("name", parameters),
            to: try Self.required("new_name", parameters)
        )
        return .success(1)
    }

    private func revoke(user: String, _ parameters: [String: String]) async throws -> UAPIResult {
        try await manager.revoke(owner: user, name: try Self.required("name", parameters))
        return .success(1)
    }

    // MARK: Helpers

    /// A parameter a user left out or got wrong.
    struct ParameterError: Error {
        let message: String
    }

    private static func required(_ name: String, _ parameters: [String: String]) throws -> String {
        guard let value = parameters[name], !value.isEmpty else {
            throw ParameterError(message: "The parameter \"\(name)\" is required.")
        }
        return value
    }

    /// Whole seconds since 1970. Stored dates lie within 1970–9999 (TokenStoreRules.dateRange), so
    /// the conversion cannot trap.
    static func unixTime(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }
}
