/// A benchmark that could not measure what it set out to: a child process that printed no numbers,
/// a probe token that did not validate, a file that could not be written.
struct BenchmarkError: Error, CustomStringConvertible {
    let message: String
    var description: String { "Benchmark failed: \(message)" }
}
