/// Values that many records share — owners, scope sets, allow-lists — each kept once and referred
/// to by a 32-bit number.
///
/// At a million tokens, ten tokens an owner and a fifth of them with the same two scopes, keeping
/// an owner's name and a scope set once instead of in every record saves about 40 bytes a token.
/// Each number counts its references; a value nothing refers to any more is dropped and its number
/// reused, so a long-running server does not keep every owner it ever saw.
///
/// Numbers start at 1: callers keep 0 for "none" (no scopes, no allow-list).
struct Interner<Value: Hashable & Sendable>: Sendable {
    /// The value of each number; index 0 and free numbers hold `nil`.
    private var values: [Value?] = [nil]
    private var references: [UInt32] = [0]
    private var numbers: [Value: UInt32] = [:]
    private var freeNumbers: [UInt32] = []

    /// The value numbered `number`, which must be held.
    @inline(__always)
    func value(_ number: UInt32) -> Value {
        values[Int(number)]!
    }

    /// The number of `value`, if some record refers to it.
    func number(of value: Value) -> UInt32? {
        numbers[value]
    }

    /// The number of distinct values held.
    var count: Int { numbers.count }

    /// The number of `value`, counting one more reference to it.
    mutating func retain(_ value: Value) -> UInt32 {
        if let number = numbers[value] {
            references[Int(number)] += 1
            return number
        }
        let number: UInt32
        if let free = freeNumbers.popLast() {
            number = free
            values[Int(number)] = value
            references[Int(number)] = 1
        } else {
            number = UInt32(values.count)
            values.append(value)
            references.append(1)
        }
        numbers[value] = number
        return number
    }

    /// Drops one reference to `number`, and the value with the last one.
    mutating func release(_ number: UInt32) {
        references[Int(number)] -= 1
        guard references[Int(number)] == 0, let value = values[Int(number)] else { return }
        numbers[value] = nil
        values[Int(number)] = nil
        freeNumbers.append(number)
    }

    /// One past the highest number handed out: the size of a table indexed by number.
    var numberBound: Int { values.count }
}
