import Foundation

/// Timing helpers: every figure is a median or a percentile over repeated runs, never one run.
enum Statistics {
    /// The `fraction` percentile of `values` (0.5 = median).
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Runs `body` in `rounds` rounds and returns the seconds each took.
    static func rounds(_ rounds: Int, _ body: () throws -> Void) rethrows -> [Double] {
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            try body()
            times.append(seconds(ContinuousClock.now - start))
        }
        return times
    }

    /// Async variant of ``rounds(_:_:)``.
    static func rounds(_ rounds: Int, _ body: () async throws -> Void) async rethrows -> [Double] {
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            try await body()
            times.append(seconds(ContinuousClock.now - start))
        }
        return times
    }
}

/// Formats numbers for the report.
enum Format {
    static func rate(_ perSecond: Double) -> String {
        if perSecond >= 1e6 { return String(format: "%.2f M/s", perSecond / 1e6) }
        if perSecond >= 1e3 { return String(format: "%.1f k/s", perSecond / 1e3) }
        return String(format: "%.0f /s", perSecond)
    }

    static func nanoseconds(_ seconds: Double) -> String {
        if seconds >= 1e-3 { return String(format: "%.2f ms", seconds * 1e3) }
        if seconds >= 1e-6 { return String(format: "%.1f µs", seconds * 1e6) }
        return String(format: "%.0f ns", seconds * 1e9)
    }

    static func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }

    static func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
}
