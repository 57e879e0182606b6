import Foundation
import Hummingbird
import TokenKit

/// cPanel's UAPI `Tokens` module: `create_full_access`, `list`, `rename`, `revoke`, by GET (query
/// string) or POST (form body), for the authenticated user.
struct TokensModule: Sendable {
    let manager: TokenManager

    func handle(_ request: Request, context: TokenRequestContext) async throws -> Response {
        guard let user = context.token?.owner else {
            return TokenAuthenticationMiddleware<TokenRequestContext>.unauthorized
        }
        let function = context.parameters.get("function") ?? ""
        let parameters = try await Self.parameters(of: request, context: context)
        do {
            switch function {
            case "create_full_access": return try await create(user: user, parameters)
            case "list": return try await list(user: user)
            case "rename": return try await rename(user: user, parameters)
            case "revoke": return try await revoke(user: user, parameters)
            default:
                return UAPIResult.failure(["The function \"\(function)\" does not exist in the module \"Tokens\"."])
            }
        } catch let error as TokenKitError {
            return UAPIResult.failure([error.message])
        } catch let error as ParameterError {
            return UAPIResult.failure([error.message])
        }
    }

    private func create(user: String, _ parameters: [String: String]) async throws -> Response {
        let name = try Self.required("name", parameters)
        var expiry = TokenExpiry.never  // cPanel's API: no expires_at, no expiry
        if let text = parameters["expires_at"], !text.isEmpty {
            guard let seconds = Int(text) else {
                throw ParameterError(message: "The parameter \"expires_at\" must be a Unix time in seconds.")
            }
            expiry = .at(Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        let issued = try await manager.create(owner: user, name: name, expiry: expiry)
        return UAPIResult.success([
            "token": issued.secret,
            "create_time": Int(issued.record.createdAt.timeIntervalSince1970),
            "name": issued.record.name,
            "expires_at": issued.record.expiresAt.map { Int($0.timeIntervalSince1970) } as Any? ?? NSNull(),
        ])
    }

    private func list(user: String) async throws -> Response {
        // cPanel lists every token that exists, expired ones included; revoked ones are gone.
        let records = try await manager.list(owner: user, including: [.active, .disabled, .expired])
        return UAPIResult.success(
            records.map { record -> [String: Any] in
                [
                    "name": record.name,
                    "create_time": Int(record.createdAt.timeIntervalSince1970),
                    "expires_at": record.expiresAt.map { Int($0.timeIntervalSince1970) } as Any? ?? NSNull(),
                    "has_full_access": record.scopes.isEmpty ? 1 : 0,
                    "features": record.scopes.sorted(),
                ]
            }
        )
    }

    private func rename(user: String, _ parameters: [String: String]) async throws -> Response {
        try await manager.rename(
            owner: user,
            name: try Self.required("name", parameters),
            to: try Self.required("new_name", parameters)
        )
        return UAPIResult.success(1)
    }

    private func revoke(user: String, _ parameters: [String: String]) async throws -> Response {
        try await manager.revoke(owner: user, name: try Self.required("name", parameters))
        return UAPIResult.success(1)
    }

    // MARK: Parameters

    struct ParameterError: Error {
        let message: String
    }

    private static func required(_ name: String, _ parameters: [String: String]) throws -> String {
        guard let value = parameters[name], !value.isEmpty else {
            throw ParameterError(message: "The parameter \"\(name)\" is required.")
        }
        return value
    }

    /// The query string's parameters, and for POST the form body's too.
    static func parameters(of request: Request, context: TokenRequestContext) async throws -> [String: String] {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            parameters[String(key)] = String(value)
        }
        if request.method == .post {
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024)
            let text = String(buffer: body)
            if !text.isEmpty {
                let form = (try? URLEncodedFormDecoder().decode([String: String].self, from: text)) ?? [:]
                parameters.merge(form) { _, form in form }
            }
        }
        return parameters
    }
}
