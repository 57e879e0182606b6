// libFuzzer entry point for every TokenKit fuzz target.
//
// Built by Fuzz/run.sh together with Sources/TokenKit/**/*.swift into ONE executable whose module
// is `TokenKit`, so the targets reach internal API (LogEntry, StoreFileFormat, ByteReader,
// FileTokenStore's state and compact()). The target is chosen with TOKENKIT_FUZZ_TARGET.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One fuzz target: a name for TOKENKIT_FUZZ_TARGET and the function run on every input.
struct FuzzTarget: Sendable {
    let name: String
    let summary: String
    let run: @Sendable ([UInt8]) -> Void
}

/// Every target, in the order Fuzz/run.sh runs them.
let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(name: "format", summary: "TokenFormat.validate on bytes and strings", run: fuzzFormat),
    FuzzTarget(name: "authorization", summary: "AuthorizationCredentials(parsing:)", run: fuzzAuthorization),
    FuzzTarget(name: "network", summary: "IPAddress / IPNetwork parsing and contains", run: fuzzNetwork),
    FuzzTarget(name: "policies", summary: "name, owner, scope, date and expiry rules", run: fuzzPolicies),
    FuzzTarget(name: "store-bytes", summary: "FileTokenStore opening arbitrary file bytes", run: fuzzStoreBytes),
    FuzzTarget(name: "store-log", summary: "FileTokenStore on logs with valid checksums", run: fuzzStoreLog),
    // Issue 14: the leak-report JSON and revoking what it names. A new target goes here, in
    // Fuzz/run.sh's TARGETS, and gets seeds in Fuzz/Corpus/<name>/ (see Seeds.swift).
    FuzzTarget(name: "leak-report", summary: "LeakReport(json:) and revokeLeakedTokens", run: fuzzLeakReport),
    // Issue 12: SHA-256 in hardware against the portable code.
    FuzzTarget(name: "hashing", summary: "SHA-256, HMAC and CRC-32 on every implementation here", run: fuzzHashing),
    // Issue 13: a damaged index file never changes an answer.
    FuzzTarget(name: "store-index", summary: "FileTokenStore beside any index file", run: fuzzStoreIndex),
    // Validation without waiting answers as the awaited validation does.
    FuzzTarget(
        name: "validation",
        summary: "validateImmediately against validate(authorization:)",
        run: fuzzValidation
    ),
]

/// The target chosen with TOKENKIT_FUZZ_TARGET, looked up once.
let selectedTarget: FuzzTarget? = {
    let name = ProcessInfo.processInfo.environment["TOKENKIT_FUZZ_TARGET"] ?? ""
    return fuzzTargets.first { $0.name == name }
}()

/// Stops the run with a message libFuzzer shows and saves the input for (an invariant failure).
func fuzzFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("TokenKit fuzz invariant failed: \(message)", file: file, line: line)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    if let directory = environment["TOKENKIT_FUZZ_WRITE_SEEDS"] {
        writeSeeds(to: directory)
        exit(0)
    }
    guard selectedTarget != nil else {
        let names = fuzzTargets.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
        let given = environment["TOKENKIT_FUZZ_TARGET"].map { "\"\($0)\"" } ?? "nothing"
        printError("TOKENKIT_FUZZ_TARGET is \(given); set it to one of:\n\(names)\n")
        exit(2)
    }
    FuzzFiles.setUp()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget?.run(bytes)
    return 0
}

/// Runs `body` on the cooperative pool and waits for it: libFuzzer calls the harness
/// synchronously, the store's writing API is async. A hang shows up as a libFuzzer timeout.
func runAsync(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body()
        done.signal()
    }
    done.wait()
}

/// Writes `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data(message.utf8))
}
