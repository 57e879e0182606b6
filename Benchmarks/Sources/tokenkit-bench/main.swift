import Foundation
import TokenKit

// `tokenkit-bench --help` lists the subcommands.

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "run":
    let quick = arguments.contains("--quick")
    let output = arguments.firstIndex(of: "--output").map { arguments[$0 + 1] }
    try await BenchmarkSuite(quick: quick).run(output: output)
case "postgres":
    let quick = arguments.contains("--quick")
    let output = arguments.firstIndex(of: "--output").map { arguments[$0 + 1] }
    let size = arguments.firstIndex(of: "--size").flatMap { Int(arguments[$0 + 1]) }
    try await BenchmarkSuite(quick: quick).runPostgres(output: output, sizes: size.map { [$0] })
case "open-store":
    try OpenBenchmark.openStore(arguments[1])
case "open-first-validation":
    try await OpenBenchmark.openToFirstValidation(arguments[1], token: arguments[2])
case "open-first-list":
    try await OpenBenchmark.openToFirstList(arguments[1], owner: arguments[2])
case "open-first-expiring":
    try await OpenBenchmark.openToFirstExpiringSearch(arguments[1])
case "sqlite-first-query":
    try OpenBenchmark.sqliteFirstQuery(arguments[1], arguments[2])
case "memory-per-token":
    // (child mode) resident bytes an InMemoryTokenStore adds per token, in a fresh process: as
    // measured, and once the allocator has returned the memory it holds free (the buffers that
    // growing the store's arrays and tables left behind) — the store's own footprint.
    let count = Int(arguments[1])!
    let records = (0..<count).map { StoreFixtures.token($0).record }
    returnFreeMemory()
    let before = ProcessMemory.current().resident
    let store = InMemoryTokenStore()
    for record in records { try store.insert(record, maximumLiveTokensPerOwner: nil) }
    let grown = ProcessMemory.current().resident
    returnFreeMemory()
    let live = ProcessMemory.current().resident
    print((grown - before) / count, (live - before) / count, store.count)
case "profile-validate":
    // A steady validation loop over COUNT in-memory tokens, to run under a profiler.
    let count = Int(arguments[1]) ?? 10_000
    let (records, secrets) = ValidationBenchmark.records(count: count)
    let store = InMemoryTokenStore()
    for record in records { try store.insert(record, maximumLiveTokensPerOwner: nil) }
    let result = try await ValidationBenchmark.run(
        store: store,
        presented: ValidationBenchmark.workload(secrets),
        quick: false
    )
    print(Format.rate(result.singleTask), Format.nanoseconds(result.p50))
case "durable-writes":
    // The durable-write section alone, beside SQLite, for work on the commit path.
    let directory = NSTemporaryDirectory() + "tokenkit-durable-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer {
        // Ignoring a failure is safe: the folder is in the temporary directory.
        try? FileManager.default.removeItem(atPath: directory)
    }
    for row in try await DurableWriteBenchmark.run(directory: directory, quick: arguments.contains("--quick")) {
        print("\(row.benchmark): \(row.tokenKit) (SQLite \(row.peer)) \(row.target)")
    }
case "profile-durable":
    // Durable creates into a file store alone, with WRITERS writers for 5 s, to run under a profiler.
    let writers = Int(arguments[1]) ?? 1
    let directory = NSTemporaryDirectory() + "tokenkit-durable-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer {
        // Ignoring a failure is safe: the folder is in the temporary directory.
        try? FileManager.default.removeItem(atPath: directory)
    }
    let rate = try await DurableWriteBenchmark.fileStore(
        path: directory + "/profile.tkstore",
        writers: writers,
        seconds: 5
    )
    print(Format.rate(rate))
case "make-store":
    let count = Int(arguments[2])!
    try await StoreFixtures.makeFileStore(at: arguments[1], records: (0..<count).map { StoreFixtures.token($0).record })
default:
    // `--help`, `help`, nothing, or an unknown subcommand: every subcommand.
    print(
        """
        usage: tokenkit-bench SUBCOMMAND

          run [--quick] [--output FILE]          every benchmark, in one run; writes a Markdown report
          postgres [--quick] [--size N] [--output FILE]
                                                 the PostgreSQL section alone, beside its peers
                                                 (TOKENKIT_POSTGRES_URL must be set)
          durable-writes [--quick]               the durable-write section alone
          make-store PATH COUNT                  fill a file store with COUNT realistic tokens
          profile-validate COUNT                 validate in a loop over COUNT tokens, for a profiler
          profile-durable WRITERS                durable creates into a file store for 5 s, for a profiler
          open-store PATH                        (child mode) open a file store, print time and peak RSS
          memory-per-token COUNT                 (child mode) resident bytes per token in memory: as grown, the store's own
          open-first-validation PATH TOKEN       (child mode) open a file store and validate once
          open-first-list PATH OWNER             (child mode) open a file store and list an owner's tokens
          open-first-expiring PATH               (child mode) open a file store and search for expiring tokens
          sqlite-first-query PATH DIGEST         (child mode) open SQLite and query once
          --help                                 this list
        """
    )
}
