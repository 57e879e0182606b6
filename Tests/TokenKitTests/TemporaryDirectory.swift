import Foundation
import Synchronization

@testable import TokenKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory for one test's files, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "tokenkit-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        // A store's shared memory page outlives its files (until the machine restarts): remove the
        // pages of the stores made here, or thousands of test runs would fill /dev/shm.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for lock in files where lock.hasSuffix(".lock") {
            if let status = POSIXFile.status(atPath: file(lock)) {
                shm_unlink(SharedPage.name(for: status))
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A path inside the directory.
    func file(_ name: String) -> String { path + "/" + name }
}

/// Reads a whole file.
func contents(of path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Writes a whole file with mode 0600.
func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}

extension FileTokenStore {
    /// Where the log's last complete group ends; after it the file may hold preallocated zeros.
    var logEnd: Int { state.withLock { $0.committedEnd } }
}
