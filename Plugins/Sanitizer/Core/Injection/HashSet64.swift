/// A fixed set of 64-bit hash values (the model's word hashes; the known-attack 4-gram keys),
/// looked up without hashing them again: the values are already well-mixed hashes, so their top
/// bits index an open-addressing table directly (linear probing, at most half full).
/// `Set<UInt64>` would run SipHash on every lookup.
struct HashSet64: Sendable {
    /// Slots: 0 is empty (a member equal to 0 is kept in ``hasZero``).
    private let slots: [UInt64]
    private let shift: UInt64
    private let hasZero: Bool

    init(_ members: [UInt64]) {
        var bits = 4
        while (1 << bits) < 2 * members.count { bits += 1 }
        var slots = [UInt64](repeating: 0, count: 1 << bits)
        let mask = (1 << bits) - 1
        var hasZero = false
        for value in members {
            guard value != 0 else {
                hasZero = true
                continue
            }
            var i = Int(truncatingIfNeeded: value >> UInt64(64 - bits))
            while slots[i] != 0 && slots[i] != value { i = (i + 1) & mask }
            slots[i] = value
        }
        self.slots = slots
        self.shift = UInt64(64 - bits)
        self.hasZero = hasZero
    }

    @inline(__always)
    func contains(_ value: UInt64) -> Bool {
        guard value != 0 else { return hasZero }
        return slots.withUnsafeBufferPointer { table in
            let mask = table.count - 1
            var i = Int(truncatingIfNeeded: value >> shift)
            while true {
                let slot = table[i]
                if slot == value { return true }
                if slot == 0 { return false }
                i = (i + 1) & mask
            }
        }
    }
}
