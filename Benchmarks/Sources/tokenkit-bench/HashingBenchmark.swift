import Crypto
import TokenKit

/// SHA-256 of a token (52 bytes) and of 1 MiB: TokenKit's hasher against swift-crypto's `SHA256`.
enum HashingBenchmark {
    static func run(quick: Bool) -> [Report.Row] {
        let token = Array(TokenFormat.default.generate().utf8)
        let mebibyte = [UInt8](repeating: 0x61, count: 1 << 20)
        let hasher = SHA256Hasher()
        let rounds = quick ? 3 : 9
        let iterations = quick ? 20_000 : 1_000_000
        var sink: UInt8 = 0

        let ours = Statistics.rounds(rounds) {
            token.withUnsafeBytes { bytes in
                for _ in 0..<iterations { sink ^= withUnsafeBytes(of: hasher.digest(bytes)) { $0[0] } }
            }
        }
        let theirs = Statistics.rounds(rounds) {
            for _ in 0..<iterations { sink ^= SHA256.hash(data: token).withUnsafeBytes { $0[0] } }
        }
        let bigRounds = quick ? 2 : 9
        let oursBig = Statistics.rounds(bigRounds) {
            mebibyte.withUnsafeBytes { sink ^= withUnsafeBytes(of: hasher.digest($0)) { $0[0] } }
        }
        let theirsBig = Statistics.rounds(bigRounds) {
            sink ^= SHA256.hash(data: mebibyte).withUnsafeBytes { $0[0] }
        }
        blackHole(sink)

        let oursPerHash = Statistics.percentile(ours, 0.5) / Double(iterations)
        let theirsPerHash = Statistics.percentile(theirs, 0.5) / Double(iterations)
        let oursMiB = 1 / Statistics.percentile(oursBig, 0.5)
        let theirsMiB = 1 / Statistics.percentile(theirsBig, 0.5)
        return [
            Report.Row(
                benchmark: "SHA-256 of a \(token.count)-byte token (per hash, median of \(rounds) × \(iterations))",
                tokenKit: Format.nanoseconds(oursPerHash),
                peer: Format.nanoseconds(theirsPerHash),
                ratio: Format.ratio(theirsPerHash / oursPerHash) + " as fast",
                target: "faster; ≤ 100 ns"
            ),
            Report.Row(
                benchmark: "SHA-256 of 1 MiB (throughput)",
                tokenKit: String(format: "%.0f MiB/s", oursMiB),
                peer: String(format: "%.0f MiB/s", theirsMiB),
                ratio: Format.ratio(oursMiB / theirsMiB) + " as fast"
            ),
        ]
    }
}

/// Keeps a value alive so the optimiser cannot drop the work that made it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
