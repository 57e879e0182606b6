import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asking before a change that cannot be undone, unless `--yes` was given.
enum Confirmation {
    /// Asks `question` on the terminal and returns when the answer is yes.
    ///
    /// - Parameters:
    ///   - question: The question, such as `Revoke the API token "ci" of alice? It stops working at once.`
    ///   - action: What needs `--yes`, such as `revoking`.
    ///   - refusal: What happened when the answer is no, such as `nothing was revoked.`
    /// - Throws: ``CommandFailure`` when standard input is not a terminal or the answer is not yes.
    static func ask(_ question: String, action: String, refusal: String) throws {
        guard isatty(STDIN_FILENO) != 0 else {
            throw CommandFailure(message: "\(action) needs --yes when standard input is not a terminal.")
        }
        print("\(question) Type yes to confirm: ", terminator: "")
        guard let answer = readLine(), ["yes", "y"].contains(answer.lowercased()) else {
            throw CommandFailure(message: refusal, code: 1)
        }
    }
}
