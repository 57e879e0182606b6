import Foundation
import TokenKit

/// Validation throughput and latency: 98 % valid tokens, 1 % expired, 1 % unknown.
enum ValidationBenchmark {
    struct Result {
        /// `validate(_:)` per second on one task.
        var singleTask: Double
        /// `validate(authorization:)` per second on one task, the same tokens as `Bearer` headers.
        var authorizationSingleTask: Double
        var allCores: Double
        var p50: Double
        var p99: Double
    }

    /// The tokens of a store of `count`, every hundredth (index % 100 == 1) already expired.
    static func records(count: Int) -> (records: [TokenRecord], secrets: [String]) {
        // Whole seconds: a date a store keeps exactly (TokenStoreRules.normalized).
        let expired = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 86_400).rounded(.down))
        var records: [TokenRecord] = []
        var secrets: [String] = []
        records.reserveCapacity(count)
        secrets.reserveCapacity(count)
        for index in 0..<count {
            var (record, secret) = StoreFixtures.token(index)
            if index % 100 == 1 { record.expiresAt = expired }
            records.append(record)
            secrets.append(secret)
        }
        return (records, secrets)
    }

    /// The presented tokens: the store's secrets with every hundredth replaced by an unknown token,
    /// shuffled.
    static func workload(_ secrets: [String]) -> [String] {
        var presented = secrets
        for index in stride(from: 99, to: presented.count, by: 100) {
            presented[index] = TokenFormat.default.generate()
        }
        presented.shuffle()
        return presented
    }

    /// A manager as in a running system: each token's use is written once in the warm-up, and no
    /// validation in the measurement writes another (the default, 60 s, would expire during a
    /// run at a million tokens, and a manager without `run()` writes each such use inline: a
    /// durable write per token, which is not what validation costs).
    static let steadyState = TokenManager.Configuration(lastUsedInterval: .seconds(3_600))

    static func run(store: any TokenStore, presented: [String], quick: Bool) async throws -> Result {
        let manager = TokenManager(store: store, configuration: steadyState)
        // Warm up: every token's first use is recorded once, then written.
        for token in presented { _ = try await manager.validate(token) }
        try await manager.flushUsage()

        let operations = quick ? 50_000 : 1_000_000
        let rounds = quick ? 2 : 3
        let single = try await Statistics.rounds(rounds) {
            try await validate(manager, presented, operations: operations, offset: 0)
        }
        let headers = presented.map { "Bearer " + $0 }
        let authorization = try await Statistics.rounds(rounds) {
            var valid = 0
            for index in 0..<operations {
                if case .valid = try await manager.validate(authorization: headers[index % headers.count]) {
                    valid += 1
                }
            }
            blackHole(valid)
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let parallel = try await Statistics.rounds(rounds) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for core in 0..<cores {
                    group.addTask {
                        try await validate(manager, presented, operations: operations / cores, offset: core * 7_919)
                    }
                }
                try await group.waitForAll()
            }
        }
        var latencies: [Double] = []
        let samples = quick ? 20_000 : 200_000
        latencies.reserveCapacity(samples)
        for index in 0..<samples {
            let token = presented[index % presented.count]
            let start = ContinuousClock.now
            _ = try await manager.validate(token)
            latencies.append(Statistics.seconds(ContinuousClock.now - start))
        }
        return Result(
            singleTask: Double(operations) / Statistics.percentile(single, 0.5),
            authorizationSingleTask: Double(operations) / Statistics.percentile(authorization, 0.5),
            allCores: Double(operations / cores * cores) / Statistics.percentile(parallel, 0.5),
            p50: Statistics.percentile(latencies, 0.5),
            p99: Statistics.percentile(latencies, 0.99)
        )
    }

    /// Validations per second of made-up tokens — well-formed, with valid checksums, in no store —
    /// on one task: what a flood of guessed tokens costs.
    static func unknownRate(store: any TokenStore, quick: Bool) async throws -> Double {
        let manager = TokenManager(store: store, configuration: steadyState)
        let unknown = (0..<(quick ? 20_000 : 200_000)).map { _ in TokenFormat.default.generate() }
        let rounds = try await Statistics.rounds(quick ? 2 : 3) {
            var rejected = 0
            for token in unknown {
                if case .rejected(.unknown) = try await manager.validate(token) { rejected += 1 }
            }
            guard rejected == unknown.count else { throw BenchmarkError(message: "a made-up token was not unknown") }
        }
        return Double(unknown.count) / Statistics.percentile(rounds, 0.5)
    }

    private static func validate(
        _ manager: TokenManager,
        _ presented: [String],
        operations: Int,
        offset: Int
    ) async throws {
        var valid = 0
        for index in 0..<operations {
            if case .valid = try await manager.validate(presented[(index + offset) % presented.count]) { valid += 1 }
        }
        blackHole(valid)
    }
}
