import Dispatch
import Foundation
import Synchronization
import TokenKit

/// Durable creates per second, with 1 and 8 writers: FileTokenStore against SQLite (WAL,
/// synchronous=FULL, one insert per transaction).
enum DurableWriteBenchmark {
    static func fileStore(path: String, writers: Int, seconds: Double) async throws -> Double {
        try? FileManager.default.removeItem(atPath: path)
        return try await creates(into: try FileTokenStore(path: path), writers: writers, seconds: seconds)
    }

    /// Creates per second into `store`, with `writers` tasks inserting one token each per call.
    static func creates(into store: any TokenStore, writers: Int, seconds: Double) async throws -> Double {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        let record = StoreFixtures.token(writer * 10_000_000 + count).record
                        try await store.insert(record, maximumLiveTokensPerOwner: nil)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / Statistics.seconds(ContinuousClock.now - start)
    }

    static func sqlite(path: String, writers: Int, seconds: Double) throws -> Double {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        _ = try SQLiteTokenTable(path: path)  // create the schema once
        let counts = Counts(writers)
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            guard let table = try? SQLiteTokenTable(path: path) else { return }
            var count = 0
            while Date().timeIntervalSince(start) < seconds {
                guard (try? table.insert(StoreFixtures.token(writer * 10_000_000 + count).record)) != nil else { break }
                count += 1
            }
            counts.set(writer, count)
        }
        return Double(counts.total) / Date().timeIntervalSince(start)
    }

    static func run(directory: String, quick: Bool) async throws -> [Report.Row] {
        let seconds = quick ? 0.3 : 3
        var rows: [Report.Row] = []
        var sqliteOneWriter = 0.0
        for writers in [1, 8] {
            let ours = try await fileStore(
                path: directory + "/durable-\(writers).tkstore",
                writers: writers,
                seconds: seconds
            )
            let theirs = try sqlite(path: directory + "/durable-\(writers).sqlite", writers: writers, seconds: seconds)
            if writers == 1 { sqliteOneWriter = theirs }
            rows.append(
                Report.Row(
                    benchmark: "durable creates, \(writers) writer\(writers == 1 ? "" : "s")",
                    tokenKit: Format.rate(ours),
                    peer: Format.rate(theirs),
                    ratio: Format.ratio(ours / theirs),
                    target: writers == 1
                        ? "≥ 1.3× SQLite 1-writer (\(Format.ratio(ours / sqliteOneWriter)))"
                        : "≥ 10× SQLite 1-writer (\(Format.ratio(ours / sqliteOneWriter)))"
                )
            )
        }
        let appending = try syncLatency(path: directory + "/sync-probe", preallocated: false, quick: quick)
        let overwriting = try syncLatency(path: directory + "/sync-probe", preallocated: true, quick: quick)
        rows.append(
            Report.Row(
                benchmark:
                    "this disk: one 256-byte write + `fdatasync`, appending / overwriting preallocated space (p50)",
                tokenKit: "\(Format.nanoseconds(appending)) / \(Format.nanoseconds(overwriting))",
                target: "—"
            )
        )
        return rows
    }

    /// The median time of a 256-byte write and `fdatasync` on a file in the benchmark's folder:
    /// appending (the file grows, so each sync also writes its new size), or overwriting space
    /// written and synced beforehand. What one durable commit costs at the least.
    static func syncLatency(path: String, preallocated: Bool, quick: Bool) throws -> Double {
        unlink(path)
        let descriptor = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw BenchmarkError(message: "cannot create \(path)") }
        defer {
            close(descriptor)
            unlink(path)
        }
        let count = quick ? 50 : 500
        let block = [UInt8](repeating: 0xA5, count: 256)
        if preallocated {
            let space = [UInt8](repeating: 0, count: count * block.count)
            guard pwrite(descriptor, space, space.count, 0) == space.count, synchronize(descriptor) else {
                throw BenchmarkError(message: "cannot preallocate \(path)")
            }
        }
        var times: [Double] = []
        for index in 0..<count {
            let start = ContinuousClock.now
            guard pwrite(descriptor, block, block.count, off_t(index * block.count)) == block.count,
                synchronize(descriptor)
            else { throw BenchmarkError(message: "cannot write \(path)") }
            times.append(Statistics.seconds(ContinuousClock.now - start))
        }
        return Statistics.percentile(times, 0.5)
    }
}

extension DurableWriteBenchmark {
    /// Flushes a file's data as `FileTokenStore` does: `fdatasync`, or `F_FULLFSYNC` on Apple
    /// platforms, where `fsync` leaves the drive's cache unflushed.
    static func synchronize(_ descriptor: Int32) -> Bool {
        #if canImport(Darwin)
        return fcntl(descriptor, F_FULLFSYNC) == 0
        #else
        return fdatasync(descriptor) == 0
        #endif
    }
}

/// Per-thread counts, written once by each thread.
private final class Counts: Sendable {
    private let values: Mutex<[Int]>

    init(_ count: Int) { values = Mutex([Int](repeating: 0, count: count)) }

    func set(_ index: Int, _ value: Int) { values.withLock { $0[index] = value } }

    var total: Int { values.withLock { $0.reduce(0, +) } }
}
