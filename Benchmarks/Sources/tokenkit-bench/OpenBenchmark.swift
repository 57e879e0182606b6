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
        guard numbers.count >= 2 else { throw SQLiteError(message: "child \(arguments) printed \(text)") }
        return numbers
    }

    static func median(_ arguments: [String], runs: Int) throws -> Measurement {
        let results = try (0..<runs).map { _ in try child(arguments) }
        return Measurement(
            seconds: Statistics.percentile(results.map(\.seconds), 0.5),
            peakBytes: Int(Statistics.percentile(results.map { Double($0.peakBytes) }, 0.5))
        )
    }

    static func row(
        count: Int,
        storePath: String,
        sqlitePath: String,
        probe: TokenDigest,
        quick: Bool
    ) throws -> Report.Row {
        let runs = quick ? 1 : 3
        let ours = try median(["open-store", storePath], runs: runs)
        let theirs = try median(["sqlite-first-query", sqlitePath, probe.hex], runs: runs)
        return Report.Row(
            benchmark: "open \(count.formatted()) tokens: time (peak memory)",
            tokenKit: "\(Format.nanoseconds(ours.seconds)) (\(Format.mib(ours.peakBytes)))",
            peer: "\(Format.nanoseconds(theirs.seconds)) (\(Format.mib(theirs.peakBytes)))",
            ratio: Format.ratio(ours.seconds / theirs.seconds) + " the time",
            target: count >= 1_000_000 ? "< 1 s" : "—"
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
