import Dispatch
import Foundation
import Synchronization
import Testing
import TokenKitTesting

@testable import TokenKit

/// A write that finds the store idle is committed on its caller's thread when that blocks the
/// thread briefly; every other write goes to the writer queue. Either way it is answered only once
/// durable, and only one thread of the process holds the writers' lock.
struct FileTokenStoreCallingThreadTests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("tokens.tkstore") }

    /// Alice's record named `name`, if `store` holds one.
    func named(_ name: String, in store: FileTokenStore) throws -> TokenRecord? {
        try store.records(owner: "alice").first { $0.name == name }
    }

    /// Sets the duration the store believes its last sync took (syncs on a test machine vary),
    /// once the writer queue has let go of the store: it answers a group before it stops draining.
    func setLastSync(_ store: FileTokenStore, _ duration: Duration?) async throws {
        while store.queue.withLock({ $0.draining }) { try await Task.sleep(for: .microseconds(200)) }
        store.queue.withLock { $0.lastSync = duration }
    }

    @Test func anIdleStoreCommitsOnTheCallersThreadOnceItHasTimedASync() async throws {
        let store = try FileTokenStore(path: path)
        // Nothing timed yet: the first write goes to the writer queue, and times its sync.
        try await store.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 0)
        #expect(store.queue.withLock { $0.lastSync } != nil)
        try await setLastSync(store, .microseconds(100))
        try await store.insert(.fixture(name: "second"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 1)
        #expect(store.queue.withLock { !$0.draining && $0.waiting.isEmpty })
        // Durable and visible to another handle, like any commit.
        #expect(try named("second", in: FileTokenStore(path: path)) != nil)
    }

    @Test func aSlowLastSyncSendsTheNextWriteToTheWriterQueue() async throws {
        let store = try FileTokenStore(path: path)
        try await setLastSync(store, .milliseconds(2))
        try await store.insert(.fixture(name: "slow"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 0)
        try await setLastSync(store, FileTokenStore.callingThreadSyncLimit)
        try await store.insert(.fixture(name: "at the limit"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 1)
    }

    @Test func aWriteThatReadsEveryRecordGoesToTheWriterQueue() async throws {
        let store = try FileTokenStore(path: path)
        try await store.insert(
            .fixture(name: "old", revokedAt: Date(timeIntervalSince1970: 1)),
            maximumLiveTokensPerOwner: nil
        )
        try await setLastSync(store, .microseconds(100))
        let purged = try await store.purge(before: Date(timeIntervalSince1970: 2))
        #expect(purged.map(\.name) == ["old"])
        #expect(store.callingThreadCommitCount == 0)
    }

    @Test func aTaskWithAnExecutorPreferenceIsNeverBlocked() async throws {
        let store = try FileTokenStore(path: path)
        try await setLastSync(store, .microseconds(100))
        try await withTaskExecutorPreference(QueueExecutor()) {
            try await store.insert(.fixture(name: "on an executor"), maximumLiveTokensPerOwner: nil)
        }
        #expect(store.callingThreadCommitCount == 0)
        #expect(try named("on an executor", in: store) != nil)
    }

    @Test func aLockHeldElsewhereSendsTheWriteToTheWriterQueueWhichWaits() async throws {
        let store = try FileTokenStore(path: path, options: .init(lockTimeout: .seconds(10)))
        try await setLastSync(store, .microseconds(100))
        let holder = try POSIXFile(openingExisting: path + ".lock")
        #expect(try holder.tryLock())
        let insert = Task { try await store.insert(.fixture(name: "waited"), maximumLiveTokensPerOwner: nil) }
        // The write waits on the writer queue for the lock, not on this test's thread.
        while store.queue.withLock({ !$0.draining }) { await Task.yield() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try named("waited", in: store) == nil)
        holder.unlock()
        try await insert.value
        #expect(store.callingThreadCommitCount == 0)
        #expect(try named("waited", in: FileTokenStore(path: path)) != nil)
    }

    /// A store that compacts at 5 dead entries, with one token, "kept", changed `changes` times,
    /// each change after a quick sync (so on the caller's thread).
    func storeWithQuickChanges(_ changes: Int) async throws -> FileTokenStore {
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: 5))
        try await store.insert(.fixture(name: "kept"), maximumLiveTokensPerOwner: nil)
        for round in 0..<changes {
            try await setLastSync(store, .microseconds(100))
            _ = try await store.changeLimits(.init(scopes: ["r\(round)"]), owner: "alice", name: "kept", now: .now)
        }
        return store
    }

    @Test func aCompactionDueAfterACallersCommitRunsBeforeTheNextWriteIsAnswered() async throws {
        // The fifth change leaves 5 dead entries: compaction is due after it.
        let store = try await storeWithQuickChanges(5)
        #expect(store.callingThreadCommitCount == 5)
        try await store.waitUntilIdle()
        // Compacted before the next write was answered: one live record, in the new index file.
        #expect(store.logEntryCount == 1)
        #expect(FileManager.default.fileExists(atPath: path + ".index"))
    }

    @Test func aFailedSyncOnTheCallersThreadSendsTheNextWriteToTheWriterQueue() async throws {
        let store = try FileTokenStore(path: path)
        try await store.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        try await setLastSync(store, .microseconds(100))
        store.injectSyncFailure(TokenKitError(.storageFailure, "injected"))
        let error = await tokenKitError {
            try await store.insert(.fixture(name: "lost"), maximumLiveTokensPerOwner: nil)
        }
        #expect(error?.message == "injected")
        #expect(store.callingThreadCommitCount == 1)
        // The failure may have been a sync that hung: the next write is timed on the writer queue.
        #expect(store.queue.withLock { $0.lastSync } == nil)
        try await store.insert(.fixture(name: "next"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 1)
        let reopened = try FileTokenStore(path: path)
        #expect(try named("lost", in: reopened) == nil)
        #expect(try named("next", in: reopened) != nil)
    }

    @Test func aDeletedStoreIsRefusedOnTheCallersThreadToo() async throws {
        let store = try FileTokenStore(path: path)
        try await store.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        try await setLastSync(store, .microseconds(100))
        try FileManager.default.removeItem(atPath: path)
        let error = await tokenKitError {
            try await store.insert(.fixture(name: "second"), maximumLiveTokensPerOwner: nil)
        }
        #expect(error?.code == .storeReplaced)
        #expect(store.callingThreadCommitCount == 1)
        #expect(store.queue.withLock { !$0.draining })
    }

    @Test func anotherProcesssCommitsSendTheNextWriteToTheWriterQueue() async throws {
        let store = try FileTokenStore(path: path)
        let other = try FileTokenStore(path: path)
        try await store.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        try await other.insert(.fixture(name: "from the other"), maximumLiveTokensPerOwner: nil)
        // Catching up could mean reading a whole compacted file: not on the caller's thread.
        try await setLastSync(store, .microseconds(100))
        try await store.insert(.fixture(name: "second"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 0)
        // Caught up now: the next write commits on the caller's thread.
        try await setLastSync(store, .microseconds(100))
        try await store.insert(.fixture(name: "third"), maximumLiveTokensPerOwner: nil)
        #expect(store.callingThreadCommitCount == 1)
        #expect(try store.count == 4)
    }

    @Test func aCompactionHandedToTheWriterQueueKeepsAnotherProcesssCommits() async throws {
        let store = try await storeWithQuickChanges(4)
        // Hold the writer queue, so that the compaction the next change leaves due waits behind it
        // with the writers' lock let go.
        let gate = DispatchSemaphore(value: 0)
        store.writerQueue.async { gate.wait() }
        try await setLastSync(store, .microseconds(100))
        _ = try await store.changeLimits(.init(scopes: ["r4"]), owner: "alice", name: "kept", now: .now)
        #expect(store.callingThreadCommitCount == 5)
        #expect(store.queue.withLock { $0.draining })
        // Another process commits meanwhile.
        let other = try FileTokenStore(path: path)
        try await other.insert(.fixture(name: "from the other"), maximumLiveTokensPerOwner: nil)
        gate.signal()
        // Compacted by the writer queue alone, with both records (no later write caught up first).
        while store.queue.withLock({ $0.draining }) { try await Task.sleep(for: .milliseconds(1)) }
        #expect(store.logEntryCount == 2)
        #expect(FileManager.default.fileExists(atPath: path + ".index"))
        #expect(try named("from the other", in: store) != nil)
        #expect(try other.count == 2)
        let reopened = try FileTokenStore(path: path)
        #expect(try named("from the other", in: reopened) != nil)
        #expect(try named("kept", in: reopened)?.scopes == ["r4"])
    }

    @Test func anOwnerNotYetReadFromTheIndexFileIsReadOnTheWriterQueue() async throws {
        let compacted = try FileTokenStore(path: path)
        for index in 0..<3 { try await compacted.insert(.fixture(name: "t\(index)"), maximumLiveTokensPerOwner: nil) }
        try await compacted.compact()
        let store = try FileTokenStore(path: path)
        #expect(store.openReport.openedFromIndexFile)
        // Alice's records are still in the snapshot: reading them (there could be thousands) is
        // the writer queue's work.
        try await setLastSync(store, .microseconds(100))
        try await store.insert(.fixture(name: "t3"), maximumLiveTokensPerOwner: 4)
        #expect(store.callingThreadCommitCount == 0)
        // Read now: her next token commits on the caller's thread, and still counts her others.
        try await setLastSync(store, .microseconds(100))
        try await store.insert(.fixture(name: "t4"), maximumLiveTokensPerOwner: 5)
        #expect(store.callingThreadCommitCount == 1)
        let error = await tokenKitError { try await store.insert(.fixture(name: "t5"), maximumLiveTokensPerOwner: 5) }
        #expect(error?.code == .tokenLimitReached)
    }

    @Test func aLargeBatchOfLastUsedTimesGoesToTheWriterQueue() async throws {
        let store = try FileTokenStore(path: path)
        var records: [TokenRecord] = []
        for index in 0...FileTokenStore.callingThreadRecordLimit {
            let record = TokenRecord.fixture(name: "t\(index)")
            try await store.insert(record, maximumLiveTokensPerOwner: nil)
            records.append(record)
        }
        let used = Date(timeIntervalSince1970: 1_900_000_000)
        try await setLastSync(store, .microseconds(100))
        let before = store.callingThreadCommitCount
        try await store.recordUse(Dictionary(uniqueKeysWithValues: records.dropLast().map { ($0.id, used) }))
        #expect(store.callingThreadCommitCount == before + 1)
        try await setLastSync(store, .microseconds(100))
        try await store.recordUse(Dictionary(uniqueKeysWithValues: records.map { ($0.id, used + 1) }))
        #expect(store.callingThreadCommitCount == before + 1)
        #expect(try store.record(id: records[0].id)?.lastUsedAt == used + 1)
    }

    @Test func writesAndCompactionsQueuedTogetherRunInArrivalOrder() async throws {
        let store = try FileTokenStore(path: path)
        try await store.insert(.fixture(name: "seed"), maximumLiveTokensPerOwner: nil)
        try await setLastSync(store, nil)
        let gate = DispatchSemaphore(value: 0)
        store.writerQueue.async { gate.wait() }
        func queued() -> Int { store.queue.withLock { $0.waiting.count } }
        let first = Task { try await store.insert(.fixture(name: "a"), maximumLiveTokensPerOwner: nil) }
        while queued() < 1 { await Task.yield() }
        let compaction = Task { try await store.compact() }
        while queued() < 2 { await Task.yield() }
        let second = Task {
            _ = try await store.changeLimits(.init(scopes: ["later"]), owner: "alice", name: "a", now: .now)
        }
        while queued() < 3 { await Task.yield() }
        gate.signal()
        try await first.value
        try await compaction.value
        try await second.value
        // The snapshot holds "seed" and "a"; only the change queued after the compaction follows it.
        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.openedFromIndexFile)
        #expect(reopened.openReport.recordsLoaded == 1)
        #expect(try named("a", in: reopened)?.scopes == ["later"])
    }

    @Test func compactionsAndWritesFromManyTasksNeverOverlap() async throws {
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: 10))
        try await store.insert(.fixture(name: "seed"), maximumLiveTokensPerOwner: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in 0..<40 {
                        try await setLastSync(store, .microseconds(100))
                        try await store.insert(.fixture(name: "w\(writer)-\(index)"), maximumLiveTokensPerOwner: nil)
                        _ = try await store.changeLimits(
                            .init(scopes: ["s\(index)"]),
                            owner: "alice",
                            name: "w\(writer)-\(index)",
                            now: .now
                        )
                    }
                }
            }
            group.addTask {
                for _ in 0..<10 {
                    try await store.compact()
                    await Task.yield()
                }
            }
            try await group.waitForAll()
        }
        #expect(store.callingThreadCommitCount > 0)
        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.skippedDamagedBytes == 0)
        #expect(try reopened.count == 161)
        for writer in 0..<4 {
            #expect(try named("w\(writer)-39", in: reopened)?.scopes == ["s39"])
        }
    }
}

/// Runs jobs on a serial dispatch queue: a task executor a server might prefer (like an event loop).
private final class QueueExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "TokenKitTests.QueueExecutor")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
