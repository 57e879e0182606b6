import ArgumentParser
import Foundation
import TokenKit

/// The root command: cPanel's "Manage API Tokens" screens on the command line.
struct Tokenctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenctl",
        abstract: "Create, list, rename, update, disable, enable, revoke, rotate, delete, purge and verify API tokens "
            + "in a TokenKit file store (and compact it).",
        discussion: "The store is given by --store PATH or the TOKENKIT_STORE environment variable.",
        subcommands: [
            Create.self, List.self, Rename.self, Update.self, Disable.self, Enable.self, Revoke.self, Rotate.self,
            Delete.self, Purge.self, Verify.self, Compact.self,
        ]
    )
}

/// Runs `tokenctl` so that every failure is one readable line on standard error.
@main
enum Main {
    static func main() async {
        do {
            var command = try Tokenctl.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as TokenKitError {
            fail(error.message)
        } catch let error as CommandFailure {
            fail(error.message, code: error.code)
        } catch {
            // Help and version requests, and exit codes thrown on purpose, keep ArgumentParser's
            // behaviour; usage errors become one line.
            let code = Tokenctl.exitCode(for: error)
            if code == .success || error is ExitCode { Tokenctl.exit(withError: error) }
            fail(Tokenctl.message(for: error), code: code.rawValue)
        }
    }

    private static func fail(_ message: String, code: Int32 = 2) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data("tokenctl: \(line)\n".utf8))
        exit(code)
    }
}

/// A failure with a message for people and an exit code.
struct CommandFailure: Error {
    let message: String
    var code: Int32 = 2
}
