import Foundation
import TokenKit

/// Runs every benchmark in one process and writes the report.
struct BenchmarkSuite {
    let quick: Bool

    /// Store sizes for validation: 10,000 and 1,000,000, or small ones for CI's smoke pass.
    var sizes: [Int] { quick ? [1_000, 20_000] : [10_000, 1_000_000] }

    /// Store sizes for opening: 100,000 and 1,000,000, or small ones for CI's smoke pass.
    var openSizes: [Int] { quick ? [1_000, 20_000] : [100_000, 1_000_000] }

    /// The rows for opening a store of `count` tokens: against SQLite's open and first query, to
    /// the first validation and the first list, and `tokenctl list` when `TOKENCTL` is set.
    private func openingRows(
        count: Int,
        records: [TokenRecord],
        secrets: [String],
        storePath: String,
        sqlitePath: String
    ) throws -> [Report.Row] {
        let probe = records.count / 2
        let owner = records[probe].owner
        // The same log without its index file: a store before its first compaction by this
        // version, which reads its whole log.
        let wholeLogPath = storePath + ".whole-log"
        // `try?` is safe: a copy that is not there needs no removing, and one that cannot be
        // removed makes the copy below throw.
        try? FileManager.default.removeItem(atPath: wholeLogPath)
        try FileManager.default.copyItem(atPath: storePath, toPath: wholeLogPath)
        var rows: [Report.Row] = []
        for (path, how) in [(storePath, "from the index file"), (wholeLogPath, "reading the whole log")] {
            rows.append(
                try OpenBenchmark.row(
                    count: count,
                    how: how,
                    storePath: path,
                    sqlitePath: sqlitePath,
                    probe: records[probe].digest,
                    quick: quick
                )
            )
        }
        for (path, how) in [(storePath, "from the index file"), (wholeLogPath, "reading the whole log")] {
            rows += try OpenBenchmark.firstAnswerRows(
                count: count,
                how: how,
                storePath: path,
                token: secrets[probe],
                owner: owner,
                quick: quick
            )
        }
        if let row = try OpenBenchmark.tokenctlListRow(count: count, storePath: storePath, owner: owner, quick: quick) {
            rows.append(row)
        }
        return rows
    }

    func run(output: String?) async throws {
        let started = ContinuousClock.now
        let directory = NSTemporaryDirectory() + "tokenkit-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var report = Report()

        report.section("Hashing", peer: "swift-crypto 3.12 `SHA256`", HashingBenchmark.run(quick: quick))

        var validationRows: [Report.Row] = []
        var storageRows: [Report.Row] = []
        var openRows: [(count: Int, rows: [Report.Row])] = []
        var postgresRows: [Report.Row] = []
        let postgres = PostgresBenchmark.url
        for count in sizes {
            let (records, secrets) = ValidationBenchmark.records(count: count)
            let presented = ValidationBenchmark.workload(secrets)

            // Write the stores first, and time their opening before validation adds last-used
            // updates to the file store's log.
            let storePath = directory + "/store-\(count).tkstore"
            try await StoreFixtures.makeFileStore(at: storePath, records: records)
            let sqlitePath = directory + "/store-\(count).sqlite"
            try StoreFixtures.makeSQLite(at: sqlitePath, records: records)
            if openSizes.contains(count) {
                openRows.append(
                    (
                        count,
                        try openingRows(
                            count: count,
                            records: records,
                            secrets: secrets,
                            storePath: storePath,
                            sqlitePath: sqlitePath
                        )
                    )
                )
            }

            // In memory; resident bytes per token are measured in a fresh child process: as the
            // store grew, and its own (once the allocator returned the buffers growth freed).
            let memoryNumbers = try OpenBenchmark.childNumbers(["memory-per-token", "\(count)"])
            let (grownPerToken, livePerToken) = (memoryNumbers[0], memoryNumbers[1])
            let memory = InMemoryTokenStore()
            for record in records { try memory.insert(record, maximumLiveTokensPerOwner: nil) }
            let inMemory = try await ValidationBenchmark.run(store: memory, presented: presented, quick: quick)
            let floor = FloorBenchmark.rate(
                records: records,
                presented: presented,
                operations: quick ? 50_000 : 1_000_000,
                rounds: quick ? 2 : 3
            )

            // Through PostgresTokenStore, cached and querying on every validation.
            if let postgres {
                postgresRows += try await PostgresBenchmark.validationRows(
                    url: postgres,
                    records: records,
                    presented: presented,
                    inMemory: inMemory.singleTask,
                    quick: quick
                )
            }

            // Through a FileTokenStore.
            let file = try await ValidationBenchmark.run(
                store: try FileTokenStore(path: storePath),
                presented: presented,
                quick: quick
            )
            // Made-up tokens, through a fresh handle (nothing read into memory yet) and in memory.
            let unknownThroughFile = try await ValidationBenchmark.unknownRate(
                store: try FileTokenStore(path: storePath),
                quick: quick
            )
            let unknownInMemory = try await ValidationBenchmark.unknownRate(store: memory, quick: quick)

            // SQLite look-ups by digest, on the same records.
            let table = try SQLiteTokenTable(path: sqlitePath)
            let digests = presented.prefix(quick ? 20_000 : 500_000).map { SHA256Hasher().digest(of: $0) }
            let sqliteRounds = Statistics.rounds(quick ? 2 : 5) {
                var found = 0
                for digest in digests where table.lookUp(digest) { found += 1 }
                blackHole(found)
            }
            let sqliteRate = Double(digests.count) / Statistics.percentile(sqliteRounds, 0.5)

            let label = count.formatted()
            let target = count >= 1_000_000 ? "≥ 1.4 M/s" : "≥ 3 M/s"
            validationRows += [
                .init(
                    benchmark: "validate, \(label) tokens, 1 task (in memory) vs the floor",
                    tokenKit: Format.rate(inMemory.singleTask),
                    peer: Format.rate(floor),
                    ratio: Format.ratio(floor / inMemory.singleTask) + " the floor's time",
                    target: "\(target); ≤ 1.3×"
                ),
                .init(
                    benchmark: "validate(authorization:) `Bearer`, \(label) tokens, 1 task (in memory) vs the floor",
                    tokenKit: Format.rate(inMemory.authorizationSingleTask),
                    peer: Format.rate(floor),
                    ratio: Format.ratio(floor / inMemory.authorizationSingleTask) + " the floor's time",
                    target: "\(target); ≤ 1.3×"
                ),
                .init(
                    benchmark: "validate, \(label) tokens, 1 task per core (in memory)",
                    tokenKit: Format.rate(inMemory.allCores)
                ),
                .init(
                    benchmark: "validate, \(label) tokens: p50 / p99 latency (in memory)",
                    tokenKit: "\(Format.nanoseconds(inMemory.p50)) / \(Format.nanoseconds(inMemory.p99))"
                ),
                .init(
                    benchmark: "resident memory per token, \(label) tokens (in memory): the store's own / as grown",
                    tokenKit: "\(Int(livePerToken)) B / \(Int(grownPerToken)) B",
                    target: count >= 1_000_000 ? "≤ 150 B" : "—"
                ),
            ]
            storageRows += [
                .init(
                    benchmark: "validate, \(label) tokens, 1 task (FileTokenStore vs SQLite look-up by digest)",
                    tokenKit: Format.rate(file.singleTask),
                    peer: Format.rate(sqliteRate),
                    ratio: Format.ratio(file.singleTask / sqliteRate),
                    target: "same as in memory (\(Format.ratio(file.singleTask / inMemory.singleTask)))"
                ),
                .init(
                    benchmark: "validate, \(label) tokens, 1 task per core (FileTokenStore)",
                    tokenKit: Format.rate(file.allCores)
                ),
                .init(
                    benchmark: "validate, \(label) tokens: p50 / p99 latency (FileTokenStore)",
                    tokenKit: "\(Format.nanoseconds(file.p50)) / \(Format.nanoseconds(file.p99))"
                ),
                .init(
                    benchmark: "validate made-up tokens (a flood), \(label) tokens, 1 task (FileTokenStore; in memory)",
                    tokenKit:
                        "\(Format.rate(unknownThroughFile)); in memory \(Format.rate(unknownInMemory)) (\(Format.ratio(unknownInMemory / unknownThroughFile)) the time)"
                ),
            ]
        }
        for count in openSizes where !sizes.contains(count) {
            let tokens = (0..<count).map { StoreFixtures.token($0) }
            let records = tokens.map(\.record)
            let storePath = directory + "/open-\(count).tkstore"
            let sqlitePath = directory + "/open-\(count).sqlite"
            try await StoreFixtures.makeFileStore(at: storePath, records: records)
            try StoreFixtures.makeSQLite(at: sqlitePath, records: records)
            openRows.append(
                (
                    count,
                    try openingRows(
                        count: count,
                        records: records,
                        secrets: tokens.map(\.secret),
                        storePath: storePath,
                        sqlitePath: sqlitePath
                    )
                )
            )
        }
        report.section(
            "Validation (98 % valid, 1 % expired, 1 % unknown)",
            peer: "the floor: format + CRC, SHA-256, one probe, expiry (FloorBenchmark)",
            validationRows
        )
        report.section("Validation through storage", peer: "SQLite 3.40 (WAL)", storageRows)
        report.section(
            "Durable writes",
            peer: "SQLite 3.40 (WAL, synchronous=FULL)",
            try await DurableWriteBenchmark.run(directory: directory, quick: quick)
        )
        if let postgres {
            postgresRows.append(try await PostgresBenchmark.propagationRow(url: postgres, quick: quick))
            for writers in [1, 8] {
                let rate = try await PostgresBenchmark.durableCreates(
                    url: postgres,
                    writers: writers,
                    seconds: quick ? 0.3 : 3
                )
                postgresRows.append(
                    .init(
                        benchmark:
                            "durable creates, \(writers) writer\(writers == 1 ? "" : "s") (PostgresTokenStore; FileTokenStore and SQLite: Durable writes)",
                        tokenKit: Format.rate(rate)
                    )
                )
            }
            report.section(
                "PostgreSQL (loopback, synchronous_commit on)",
                peer: "in memory / a query per validation",
                postgresRows
            )
        } else {
            print(
                "PostgreSQL benchmarks skipped: set TOKENKIT_POSTGRES_URL (Integrations/TokenKitPostgres/Scripts/postgres-cluster.sh run …)"
            )
        }
        report.section(
            "Opening a store",
            peer: "SQLite 3.40: open + first query",
            openRows.sorted { $0.count < $1.count }.flatMap(\.rows)
        )
        report.section(
            "Last-used tracking",
            peer: "a write per validation",
            [try await LastUsedBenchmark.run(quick: quick)]
        )

        let elapsed = Statistics.seconds(ContinuousClock.now - started)
        let header = """
            Measured \(Date().formatted(.iso8601)) on \(ProcessInfo.processInfo.activeProcessorCount) cores, \
            \(Format.mib(Int(ProcessInfo.processInfo.physicalMemory))), release build\(quick ? ", quick (smoke) sizes" : ""), \
            in \(Int(elapsed)) s.

            """
        if let output {
            try (header + "\n" + report.markdown).write(toFile: output, atomically: true, encoding: .utf8)
            print("wrote \(output)")
        }
        print("benchmarks finished in \(Int(elapsed)) s")
    }

    /// The PostgreSQL section alone, with what it is compared with measured in the same run: the
    /// in-memory store's validation rate, and FileTokenStore's and SQLite's durable creates.
    /// - Parameter sizes: The store sizes to validate with, instead of ``sizes``.
    func runPostgres(output: String?, sizes chosen: [Int]? = nil) async throws {
        guard let postgres = PostgresBenchmark.url else {
            print("set TOKENKIT_POSTGRES_URL (Integrations/TokenKitPostgres/Scripts/postgres-cluster.sh run …)")
            return
        }
        let started = ContinuousClock.now
        let directory = NSTemporaryDirectory() + "tokenkit-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var report = Report()
        var rows: [Report.Row] = []
        for count in chosen ?? sizes {
            let (records, secrets) = ValidationBenchmark.records(count: count)
            let presented = ValidationBenchmark.workload(secrets)
            let memory = InMemoryTokenStore()
            for record in records { try memory.insert(record, maximumLiveTokensPerOwner: nil) }
            let inMemory = try await ValidationBenchmark.run(store: memory, presented: presented, quick: quick)
            rows += try await PostgresBenchmark.validationRows(
                url: postgres,
                records: records,
                presented: presented,
                inMemory: inMemory.singleTask,
                quick: quick
            )
        }
        rows.append(try await PostgresBenchmark.propagationRow(url: postgres, quick: quick))
        for writers in [1, 8] {
            let seconds = quick ? 0.3 : 3
            let ours = try await PostgresBenchmark.durableCreates(url: postgres, writers: writers, seconds: seconds)
            let file = try await DurableWriteBenchmark.fileStore(
                path: directory + "/durable-\(writers).tkstore",
                writers: writers,
                seconds: seconds
            )
            let sqlite = try DurableWriteBenchmark.sqlite(
                path: directory + "/durable-\(writers).sqlite",
                writers: writers,
                seconds: seconds
            )
            rows.append(
                .init(
                    benchmark:
                        "durable creates, \(writers) writer\(writers == 1 ? "" : "s"): PostgresTokenStore (FileTokenStore \(Format.rate(file)))",
                    tokenKit: Format.rate(ours),
                    peer: "SQLite \(Format.rate(sqlite))",
                    ratio: Format.ratio(ours / sqlite)
                )
            )
        }
        report.section("PostgreSQL (loopback, synchronous_commit on)", peer: "in memory / a query per validation", rows)
        let elapsed = Statistics.seconds(ContinuousClock.now - started)
        if let output {
            let header =
                "Measured \(Date().formatted(.iso8601)) on \(ProcessInfo.processInfo.activeProcessorCount) cores, release build, in \(Int(elapsed)) s.\n"
            try (header + "\n" + report.markdown).write(toFile: output, atomically: true, encoding: .utf8)
        }
        print("PostgreSQL benchmarks finished in \(Int(elapsed)) s")
    }
}
