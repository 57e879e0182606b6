import Foundation
import TokenKit

/// Opening a store of N tokens — time and peak memory — against SQLite's open and first query.
/// Each open runs in a child process (this executable's `open-store` and `sqlite-first-query`
/// modes), so that peak memory is that open's alone.
enum OpenBenchmark {
    struct Measurement {
        var seconds: Double
        var peakBytes: Int
    }

    /// Runs `tokenkit-bench ARGUMENTS` and parses its `seconds peak_bytes` answer.
    static func child(_ arguments: [String]) throws -> Measurement {
        let numbers = try childNumbers(arguments)
        return Measurement(seconds: numbers[0], peakBytes: Int(numbers[1]))
    }

    /// Runs `tokenkit-bench ARGUMENTS` in a fresh process and returns the numbers it printed.
    static func childNumbers(_ arguments: [String]) throws -> [Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard numbers.count >= 2 else { throw BenchmarkError(message: "child \(arguments) printed \(text)") }
        return numbers
    }

    static func median(_ arguments: [String], runs: Int) throws -> Measurement {
        let results = try (0..<runs).map { _ in try child(arguments) }
        return Measurement(
            seconds: Statistics.percentile(results.map(\.seconds), 0.5),
            peakBytes: Int(Statistics.percentile(results.map { Double($0.peakBytes) }, 0.5))
        )
    }

    /// Rows for opening a store of `count` tokens and answering a first validation, and a first
    /// list: time, and anonymous memory per token beside file-backed memory. Each in a fresh
    /// process, median of 3 (1 when quick).
    static func firstAnswerRows(
        count: Int,
        how: String,
        storePath: String,
        token: String,
        owner: String,
        quick: Bool
    ) throws
        -> [Report.Row]
    {
        let runs = quick ? 1 : 3
        let label = count.formatted()
        var rows: [Report.Row] = []
        for (what, arguments, target) in [
            ("first validation", ["open-first-validation", storePath, token], "≤ 20 ms; ≤ 64 B"),
            ("first list of an owner's tokens", ["open-first-list", storePath, owner], "—"),
            ("first search for expiring tokens (none in the window)", ["open-first-expiring", storePath], "—"),
        ] {
            let results = try (0..<runs).map { _ in try childNumbers(arguments) }
            let seconds = Statistics.percentile(results.map { $0[0] }, 0.5)
            let anonymous = Statistics.percentile(results.map { $0[1] }, 0.5)
            let fileBacked = Statistics.percentile(results.map { $0[2] }, 0.5)
            rows.append(
                Report.Row(
                    benchmark:
                        "open \(label) tokens \(how) to the \(what): time (anonymous memory per token; file-backed)",
                    tokenKit:
                        "\(Format.nanoseconds(seconds)) (\(Int(anonymous) / count) B; \(Format.mib(Int(fileBacked))))",
                    target: count >= 1_000_000 && how.contains("index") ? target : "—"
                )
            )
        }
        return rows
    }

    /// `tokenctl list --user OWNER` on a store of `count` tokens, when `TOKENCTL` names the
    /// binary (build it with `-c release`): wall time of the whole command, median of 3.
    static func tokenctlListRow(count: Int, storePath: String, owner: String, quick: Bool) throws -> Report.Row? {
        guard let tokenctl = ProcessInfo.processInfo.environment["TOKENCTL"] else { return nil }
        var times: [Double] = []
        for _ in 0..<(quick ? 1 : 3) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tokenctl)
            process.arguments = ["list", "--user", owner, "--store", storePath]
            process.standardOutput = FileHandle.nullDevice
            let start = ContinuousClock.now
            try process.run()
            process.waitUntilExit()
            times.append(Statistics.seconds(ContinuousClock.now - start))
            guard process.terminationStatus == 0 else {
                throw BenchmarkError(message: "tokenctl list exited with \(process.terminationStatus)")
            }
        }
        return Report.Row(
            benchmark: "`tokenctl list --user` on \(count.formatted()) tokens: wall time",
            tokenKit: Format.nanoseconds(Statistics.percentile(times, 0.5)),
            target: count >= 1_000_000 ? "≤ 50 ms" : "—"
        )
    }

    static func row(
        count: Int,
        how: String,
        storePath: String,
        sqlitePath: String,
        probe: TokenDigest,
        quick: Bool
    ) throws -> Report.Row {
        let runs = quick ? 1 : 3
        let ours = try median(["open-store", storePath], runs: runs)
        let theirs = try median(["sqlite-first-query", sqlitePath, probe.hex], runs: runs)
        return Report.Row(
            benchmark: "open \(count.formatted()) tokens \(how): time (peak memory)",
            tokenKit: "\(Format.nanoseconds(ours.seconds)) (\(Format.mib(ours.peakBytes)))",
            peer: "\(Format.nanoseconds(theirs.seconds)) (\(Format.mib(theirs.peakBytes)))",
            ratio: Format.ratio(ours.seconds / theirs.seconds) + " the time",
            target: count >= 1_000_000 ? (how.contains("index") ? "≤ 20 ms" : "< 1 s") : "—"
        )
    }

    // MARK: Child modes

    /// `open-store PATH`: prints the seconds to open and the process's peak resident bytes.
    static func openStore(_ path: String) throws {
        let start = ContinuousClock.now
        let store = try FileTokenStore(path: path)
        let seconds = Statistics.seconds(ContinuousClock.now - start)
        blackHole(try store.count)
        print(seconds, ProcessMemory.current().peak)
    }

    /// `open-first-validation PATH TOKEN`: opens the store and validates `TOKEN` through a manager
    /// running its background work, as a server starting does; prints the seconds to the answer,
    /// and the anonymous and file-backed resident bytes the process gained.
    static func openToFirstValidation(_ path: String, token: String) async throws {
        let before = ProcessMemory.current()
        let start = ContinuousClock.now
        let manager = TokenManager(
            store: try FileTokenStore(path: path),
            configuration: ValidationBenchmark.steadyState
        )
        let (seconds, after) = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            // A use recorded while run() starts is written by it, not inline.
            while !manager.health.isRunning { await Task.yield() }
            guard case .valid = try await manager.validate(token) else {
                throw BenchmarkError(message: "the probe token did not validate")
            }
            let seconds = Statistics.seconds(ContinuousClock.now - start)
            let after = ProcessMemory.current()
            // Cancelling run() writes the probe's first use: one small entry in the store's log,
            // after everything is measured.
            group.cancelAll()
            return (seconds, after)
        }
        printMemory(seconds: seconds, from: before, to: after)
    }

    /// `open-first-list PATH OWNER`: opens the store and lists the owner's tokens, as
    /// `tokenctl list` does; prints the seconds, and the memory gained as above.
    static func openToFirstList(_ path: String, owner: String) async throws {
        let before = ProcessMemory.current()
        let start = ContinuousClock.now
        let manager = TokenManager(store: try FileTokenStore(path: path))
        let listed = try await manager.list(owner: owner)
        let seconds = Statistics.seconds(ContinuousClock.now - start)
        let after = ProcessMemory.current()
        guard !listed.isEmpty else { throw BenchmarkError(message: "the probe owner has no tokens") }
        printMemory(seconds: seconds, from: before, to: after)
    }

    /// `open-first-expiring PATH`: opens the store and searches every token for those expiring in
    /// a day-long window that holds none (every fixture expires at the same time, outside it), as a
    /// daily expiry-notice job does; prints the seconds, and the memory gained as above.
    static func openToFirstExpiringSearch(_ path: String) async throws {
        let before = ProcessMemory.current()
        let start = ContinuousClock.now
        let store = try FileTokenStore(path: path)
        let windowStart = StoreFixtures.start + 366 * 86_400
        let found = try await store.records(expiringBetween: windowStart, and: windowStart + 86_400)
        let seconds = Statistics.seconds(ContinuousClock.now - start)
        let after = ProcessMemory.current()
        guard found.isEmpty else { throw BenchmarkError(message: "the window was meant to hold no token") }
        printMemory(seconds: seconds, from: before, to: after)
    }

    private static func printMemory(seconds: Double, from before: ProcessMemory, to after: ProcessMemory) {
        print(seconds, after.anonymous - before.anonymous, after.fileBacked - before.fileBacked)
    }

    /// `sqlite-first-query PATH DIGEST`: open the database and look one digest up.
    static func sqliteFirstQuery(_ path: String, _ digestHex: String) throws {
        let start = ContinuousClock.now
        let table = try SQLiteTokenTable(path: path)
        guard let digest = TokenDigest(hex: digestHex), table.lookUp(digest) else {
            throw SQLiteError(message: "the probe digest was not found")
        }
        let seconds = Statistics.seconds(ContinuousClock.now - start)
        print(seconds, ProcessMemory.current().peak)
    }
}
