import Testing

@testable import TokenKit

struct SlotTableTests {
    /// Random inserts and removals, with many entries sharing a key (so, a fingerprint and a home
    /// bucket), agree with a dictionary at every step.
    @Test func agreesWithADictionaryThroughInsertsRemovalsAndResizes() {
        var generator = SystemRandomNumberGenerator()
        var table = SlotTable()
        var model: [Int32: UInt64] = [:]  // slot → key
        var nextSlot: Int32 = 0
        for step in 0..<20_000 {
            if model.isEmpty || Int.random(in: 0..<3, using: &generator) > 0 {
                // A third of the keys come from a pool of 8, forcing long probe chains.
                let key =
                    Bool.random(using: &generator) ? UInt64.random(in: 0..<8, using: &generator) : generator.next()
                Self.insert(key, into: &table, model: &model, nextSlot: &nextSlot)
            } else {
                Self.removeOne(from: &table, model: &model, using: &generator)
            }
            if step % 1_000 == 0 || step == 19_999 {
                #expect(table.count == model.count)
                for (slot, key) in model {
                    #expect(table.find(key) { $0 == slot } == slot)
                }
            }
        }
        for (slot, key) in model {
            table.remove(key, slot: slot)
        }
        #expect(table.count == 0)
        #expect(table.find(3) { _ in true } == nil)
    }

    /// A table kept at its smallest (16 buckets, up to 12 keys) wraps probes and backward shifts
    /// around its end all the time: every home is within a few buckets of it.
    @Test func wrapsAroundItsEndThroughInsertsAndRemovals() {
        var generator = SystemRandomNumberGenerator()
        var table = SlotTable()
        var model: [Int32: UInt64] = [:]
        var nextSlot: Int32 = 0
        for _ in 0..<50_000 {
            if model.count < 12 && (model.isEmpty || Bool.random(using: &generator)) {
                let key = UInt64.random(in: 0..<24, using: &generator)
                Self.insert(key, into: &table, model: &model, nextSlot: &nextSlot)
            } else {
                Self.removeOne(from: &table, model: &model, using: &generator)
            }
            for (slot, key) in model {
                #expect(table.find(key) { $0 == slot } == slot)
            }
        }
        #expect(table.count == model.count)
    }

    /// Inserts `key` under the next slot, in the table and in the model.
    private static func insert(
        _ key: UInt64,
        into table: inout SlotTable,
        model: inout [Int32: UInt64],
        nextSlot: inout Int32
    ) {
        table.insert(key, slot: nextSlot)
        model[nextSlot] = key
        nextSlot += 1
    }

    /// Removes a random entry from the table and the model.
    private static func removeOne(
        from table: inout SlotTable,
        model: inout [Int32: UInt64],
        using generator: inout some RandomNumberGenerator
    ) {
        let (slot, key) = model.randomElement(using: &generator)!
        table.remove(key, slot: slot)
        model[slot] = nil
    }

    @Test func reservingCapacityKeepsEntries() {
        var table = SlotTable()
        for slot in Int32(0)..<100 { table.insert(UInt64(slot) * 7919, slot: slot) }
        table.reserveCapacity(100_000)
        for slot in Int32(0)..<100 {
            #expect(table.find(UInt64(slot) * 7919) { $0 == slot } == slot)
        }
    }
}
