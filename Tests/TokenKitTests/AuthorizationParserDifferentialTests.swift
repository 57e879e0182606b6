import Foundation
import Testing
import TokenKit

/// The one-pass header parser against the parser it replaced (kept below, verbatim but for names),
/// on generated headers: both must accept the same inputs with the same parts, and refuse the
/// rest with the same reason.
struct AuthorizationParserDifferentialTests {
    /// Pieces headers are made of: schemes in every case, blanks, separators, letters, a Kelvin
    /// sign (the one non-ASCII character whose lowercase is ASCII), other non-ASCII text, a token.
    static let pieces = [
        "Bearer", "bearer", "BEARER", "bEaReR", "cpanel", "CPanel", "CPANEL", "whm", "WHM", "wHm", "Basic",
        "bearer\u{212A}", "\u{212A}", "whm\u{0130}", " ", "\u{A0}", "\u{3000}", "\u{0B}", "\t", "\t ", ":", "::",
        "alice", "a", "é", "ｂearer",
        "\r", "\n", "\0", "tk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO",
    ]

    @Test func agreesWithThePreviousParserOnGeneratedHeaders() {
        var generator = SystemRandomNumberGenerator()
        var seen: Set<String> = []
        for _ in 0..<50_000 {
            let count = Int.random(in: 0...7, using: &generator)
            let header = (0..<count).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
            let expected = Self.previousParser(header)
            #expect(Self.currentParser(header) == expected, "\(header.debugDescription)")
            switch expected {
            case .success: seen.insert("accepted")
            case .failure(let error): seen.insert(error.reason.code)
            }
        }
        // The generator must exercise acceptance as well as each refusal.
        #expect(seen.count == 6, "\(seen.sorted())")
    }

    @Test(arguments: [8_191, 8_192, 8_193])
    func agreesAtTheLengthLimit(length: Int) {
        for header in [
            "Bearer " + String(repeating: "a", count: length - 7),
            "cpanel " + String(repeating: "b", count: length - 9) + ":x",
        ] {
            #expect(Self.currentParser(header) == Self.previousParser(header))
        }
        // One deliberate difference: nothing but blanks is empty at any length (the previous
        // parser called it malformed past the limit, and the manager had to look again).
        #expect(Self.currentParser(String(repeating: " \t", count: length)) == .failure(.init(.empty)))
    }

    typealias Outcome = Result<Parts, AuthorizationHeaderError>

    struct Parts: Equatable {
        var scheme: AuthorizationCredentials.Scheme
        var user: String?
        var token: String
    }

    static func currentParser(_ header: String) -> Outcome {
        Result { () throws(AuthorizationHeaderError) in
            let credentials = try AuthorizationCredentials(parsing: header)
            return Parts(scheme: credentials.scheme, user: credentials.user, token: credentials.token)
        }
    }

    /// TokenKit's parser before the one-pass version.
    static func previousParser(_ header: String) -> Outcome {
        Result { () throws(AuthorizationHeaderError) in
            guard header.utf8.count <= AuthorizationCredentials.maximumLength else {
                throw .init(.malformedCredentials)
            }
            let value = trimmed(header.utf8)
            guard !value.isEmpty else { throw .init(.empty) }
            let schemeEnd = value.firstIndex(where: isSpaceOrTab) ?? value.endIndex
            let schemeText = String(decoding: value[..<schemeEnd], as: UTF8.self).lowercased()
            guard let scheme = AuthorizationCredentials.Scheme(rawValue: schemeText) else {
                throw .init(.unsupportedScheme)
            }
            let credentials = trimmed(value[schemeEnd...])
            guard !credentials.isEmpty else { throw .init(.missingCredentials) }
            guard !credentials.contains(where: isSpaceOrTab) else { throw .init(.malformedCredentials) }
            switch scheme {
            case .bearer:
                return Parts(scheme: scheme, user: nil, token: String(decoding: credentials, as: UTF8.self))
            case .cpanel, .whm:
                guard let colon = credentials.firstIndex(of: UInt8(ascii: ":")), colon != credentials.startIndex
                else { throw .init(.missingUser) }
                let token = credentials[credentials.index(after: colon)...]
                guard !token.isEmpty else { throw .init(.malformedCredentials) }
                return Parts(
                    scheme: scheme,
                    user: String(decoding: credentials[..<colon], as: UTF8.self),
                    token: String(decoding: token, as: UTF8.self)
                )
            }
        }
    }

    private static func isSpaceOrTab(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func trimmed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bytes.SubSequence {
        let start = bytes.firstIndex { !isSpaceOrTab($0) } ?? bytes.endIndex
        var end = start
        var index = start
        while index != bytes.endIndex {
            if !isSpaceOrTab(bytes[index]) { end = bytes.index(after: index) }
            index = bytes.index(after: index)
        }
        return bytes[start..<end]
    }
}
