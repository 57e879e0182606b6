// A separate process that works on a FileTokenStore, for the crash and multi-process tests.
// Every line it prints describes a change whose call has returned (an acknowledged change).
//
//   tokenkit-store-helper churn PATH ROUND [COMPACTION_THRESHOLD]
//       for i = 0, 1, 2…: create "ROUND-i", print `created ROUND-i SECRET`; rename it to
//       "ROUND-i-r", print `renamed ROUND-i ROUND-i-r`; for even i revoke it, print
//       `revoked ROUND-i-r`. Runs until killed.
//   tokenkit-store-helper create PATH WORKER COUNT
//       tries to create "n0"…"n{COUNT-1}" for owner "shared", starting at WORKER*COUNT/4 and
//       wrapping around; prints `created NAME SECRET` or `duplicate NAME` for each.
//   tokenkit-store-helper serve PATH
//       reads commands from standard input and answers each with one line:
//       `validate SECRET` → `valid OWNER NAME` or `rejected REASON`;
//       `revoke OWNER NAME` → `revoked NAME` (or `error MESSAGE`).
import Foundation
import TokenKit

/// Prints a line straight to standard output (unbuffered), so a kill cannot lose it.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: tokenkit-store-helper churn|create|serve PATH …\n".utf8))
    exit(2)
}
let path = arguments[1]

do {
    switch arguments[0] {
    case "churn":
        let round = arguments[2]
        let threshold = arguments.count > 3 ? Int(arguments[3]) ?? 10_000 : 10_000
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: threshold))
        let manager = TokenManager(store: store)
        var index = 0
        while true {
            let name = "\(round)-\(index)"
            let issued = try await manager.create(owner: "churn", name: name)
            say("created \(name) \(issued.secret)")
            try await manager.rename(owner: "churn", name: name, to: name + "-r")
            say("renamed \(name) \(name)-r")
            if index.isMultiple(of: 2) {
                try await manager.revoke(owner: "churn", name: name + "-r")
                say("revoked \(name)-r")
            }
            index += 1
        }
    case "create":
        let worker = Int(arguments[2])!
        let count = Int(arguments[3])!
        let manager = TokenManager(store: try FileTokenStore(path: path, options: .init(lockTimeout: .seconds(60))))
        for step in 0..<count {
            let name = "n\((worker * count / 4 + step) % count)"
            do {
                let issued = try await manager.create(owner: "shared", name: name, expiry: .never)
                say("created \(name) \(issued.secret)")
            } catch let error as TokenKitError where error.code == .duplicateName {
                say("duplicate \(name)")
            }
        }
    case "serve":
        let manager = TokenManager(store: try FileTokenStore(path: path))
        say("ready")
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "validate" where words.count == 2:
                switch try await manager.validate(words[1]) {
                case .valid(let record): say("valid \(record.owner) \(record.name)")
                case .rejected(let reason): say("rejected \(reason)")
                }
            case "revoke" where words.count == 3:
                do {
                    try await manager.revoke(owner: words[1], name: words[2])
                    say("revoked \(words[2])")
                } catch let error as TokenKitError {
                    say("error \(error.message)")
                }
            default:
                say("error unknown command")
            }
        }
    default:
        FileHandle.standardError.write(Data("unknown mode \(arguments[0])\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("tokenkit-store-helper: \(error)\n".utf8))
    exit(1)
}
