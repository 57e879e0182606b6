import CTokenKitRandom

/// The system's CSPRNG (the same source as `SystemRandomNumberGenerator`), drawn several words at
/// a time: one system call for a whole token instead of one per 8 bytes.
///
/// Each refill draws `batch` words; a generator drawn past them refills. Words are handed out once
/// and never reused.
struct SystemRandomWords: RandomNumberGenerator {
    private var words: [UInt64]
    private var position = 0

    /// A generator that draws `batch` words (at least one) per system call.
    init(batch: Int) {
        words = Array(repeating: 0, count: max(batch, 1))
        refill()
    }

    mutating func next() -> UInt64 {
        if position == words.count { refill() }
        defer { position += 1 }
        return words[position]
    }

    private mutating func refill() {
        let filled = words.withUnsafeMutableBytes { tokenkit_random_bytes($0.baseAddress!, $0.count) == 0 }
        if !filled {
            // No getrandom(2) (or a seccomp filter refused it): the standard library's generator
            // reads the same source its own way, a word at a time, and stops the process if it
            // cannot, as it would for any Swift program.
            var system = SystemRandomNumberGenerator()
            for index in words.indices { words[index] = system.next() }
        }
        position = 0
    }
}
