import NIOCore
import TokenKit
import TokenKitServerSupport
import Vapor

extension Request {
    /// The one flow both authenticators run: TokenKitServerSupport's ``TokenRequestAuthenticator``
    /// (throttle check, client address, one validation that audits every refusal, metrics), then
    /// Vapor's way of answering: log in on success, remember the refusal for the guard, throw only
    /// for a throttled client or a store that cannot be read.
    func authenticateToken(
        authorization: String?,
        accepting schemes: Set<AuthorizationCredentials.Scheme>,
        requiring scopes: Set<String>
    ) async throws {
        guard !auth.has(AuthenticatedToken.self) else { return }
        let flow = application.tokens.requestAuthenticator(for: schemes)
        let outcome: TokenRequestAuthenticator.Outcome
        do {
            outcome = try await flow.authenticate(
                authorization: authorization,
                peer: peerIPAddress,
                forwarded: headers[.forwarded],
                xForwardedFor: headers[.xForwardedFor],
                requiring: scopes
            )
        } catch let error as TokenKitError {
            throw TokenAbortError(error)
        }
        switch outcome {
        case .authenticated(let record):
            storage[TokenRefusalKey.self] = nil
            auth.login(AuthenticatedToken(record: record))
        case .refused(let reason):
            // A missing scope outranks any other refusal: the client does hold a good token.
            if storage[TokenRefusalKey.self] != .missingScope {
                storage[TokenRefusalKey.self] = reason
            }
        case .throttled(let retryAfter):
            throw TokenAbortError.tooManyRequests(retryAfter: retryAfter)
        }
    }

    /// Why the request's token was refused, if an authenticator refused one: the guard answers 403
    /// for ``TokenKit/RejectionReason/missingScope`` and 401 for the rest.
    var tokenRefusal: RejectionReason? {
        storage[TokenRefusalKey.self]
    }

    /// The connection's peer as TokenKit's address (an IPv4-mapped IPv6 address becomes IPv4), or
    /// `nil` for a Unix socket or a request made in memory.
    var peerIPAddress: IPAddress? {
        remoteAddress?.ipAddress.flatMap { IPAddress(socketAddressText: $0) }
    }
}

/// Where a request keeps the reason its token was refused.
private struct TokenRefusalKey: StorageKey {
    typealias Value = RejectionReason
}
