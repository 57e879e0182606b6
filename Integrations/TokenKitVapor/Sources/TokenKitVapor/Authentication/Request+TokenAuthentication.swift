import NIOCore
import TokenKit
import TokenKitServerSupport
import Vapor

extension Request {
    /// The one flow both authenticators run: TokenKitServerSupport's ``TokenRequestAuthenticator``
    /// (throttle check, client address, one validation that audits every refusal, metrics), then
    /// Vapor's way of answering: log in on success, remember the refusal for the guard, fail only
    /// for a throttled client or a store that cannot be read.
    ///
    /// On the request's event loop, without a task, when TokenKit answers at once
    /// (``TokenKit/TokenManager/validateImmediately(authorization:accepting:requiring:from:)``: a
    /// running manager over an in-memory or file store, or a PostgreSQL store serving from memory);
    /// otherwise in a task, awaiting the store.
    func authenticateToken(
        authorization: String?,
        accepting schemes: Set<AuthorizationCredentials.Scheme>,
        requiring scopes: Set<String>
    ) -> EventLoopFuture<Void> {
        guard !auth.has(AuthenticatedToken.self) else { return eventLoop.makeSucceededVoidFuture() }
        let flow = application.tokens.requestAuthenticator(for: schemes)
        let peer = peerIPAddress
        // Forwarding headers matter only behind a trusted proxy: skip reading them otherwise.
        let behindProxies = !flow.addresses.trustedProxies.isEmpty
        let forwarded = behindProxies ? headers[.forwarded] : []
        let xForwardedFor = behindProxies ? headers[.xForwardedFor] : []
        do {
            if let outcome = try flow.authenticateImmediately(
                authorization: authorization,
                peer: peer,
                forwarded: forwarded,
                xForwardedFor: xForwardedFor,
                requiring: scopes
            ) {
                try apply(outcome)
                return eventLoop.makeSucceededVoidFuture()
            }
        } catch {
            return eventLoop.makeFailedFuture(Self.answerable(error))
        }
        // The request's own work, not background work: its future is this middleware's answer,
        // which the request waits for, and the task ends with the store's answer (as each of
        // Vapor's `AsyncMiddleware`s starts one per request).
        return eventLoop.makeFutureWithTask {
            let outcome: TokenRequestAuthenticator.Outcome
            do {
                outcome = try await flow.authenticate(
                    authorization: authorization,
                    peer: peer,
                    forwarded: forwarded,
                    xForwardedFor: xForwardedFor,
                    requiring: scopes
                )
            } catch {
                throw Self.answerable(error)
            }
            try self.apply(outcome)
        }
    }

    /// Answers an authentication's outcome the Vapor way: logs the token in, or remembers the
    /// refusal for the guard, or throws 429 for a throttled client.
    private func apply(_ outcome: TokenRequestAuthenticator.Outcome) throws {
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

    /// A store's error as the status it calls for (usually 503); anything else unchanged.
    private static func answerable(_ error: any Error) -> any Error {
        (error as? TokenKitError).map(TokenAbortError.init) ?? error
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
