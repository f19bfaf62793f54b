/// A consumer of the hashed model's feature values (``HashedModel/forEachValue(_:runOnTasks:words:into:)``),
/// in the order they are produced. A generic sink is specialised and inlined into the feature
/// loop, so its state (a running sum) stays in registers.
protocol FeatureSink {
    mutating func add(_ value: UInt64)
    /// Adds `value` only if `condition` holds (a sink may do so without a branch).
    mutating func add(_ value: UInt64, if condition: Bool)
    /// Makes room for `count` more values: the next `count` calls of ``addReserved(_:)`` and
    /// ``addReserved(_:if:)`` need no room check (a batching sink flushes here, once per word,
    /// instead of testing its queue on every value). Values keep their order.
    mutating func reserve(_ count: Int)
    /// ``add(_:)`` after ``reserve(_:)``.
    mutating func addReserved(_ value: UInt64)
    /// ``add(_:if:)`` after ``reserve(_:)``.
    mutating func addReserved(_ value: UInt64, if condition: Bool)
}

extension FeatureSink {
    @inline(__always)
    mutating func add(_ value: UInt64, if condition: Bool) {
        if condition { add(value) }
    }

    @inline(__always)
    mutating func reserve(_ count: Int) {}

    @inline(__always)
    mutating func addReserved(_ value: UInt64) {
        add(value)
    }

    @inline(__always)
    mutating func addReserved(_ value: UInt64, if condition: Bool) {
        add(value, if: condition)
    }
}

/// The linear model's sum: `±weights[value >> shift]` in Double, in feature order.
struct LinearSink: FeatureSink {
    let shift: UInt64
    var weights = UnsafeBufferPointer<Float>(start: nil, count: 0)
    var sum = 0.0
    var count = 0

    init(shift: UInt64) {
        self.shift = shift
    }

    @inline(__always)
    mutating func add(_ value: UInt64) {
        let weight = Double(weights[Int(truncatingIfNeeded: value >> shift)])
        sum += (value >> 40) & 1 == 1 ? -weight : weight
        count += 1
    }
}

/// The network's sum: `±row[value >> shift]` (8 floats, 32 bytes) in Float, in feature order.
struct RowSink: FeatureSink {
    let shift: UInt64
    /// The table's first row; set before the first `add`.
    var base: UnsafeRawPointer?
    var sum = SIMD8<Float>(repeating: 0)
    var count = 0

    init(shift: UInt64) {
        self.shift = shift
    }

    /// Adds `±row`: the sign is applied by flipping the row's sign bits (bit 40 of `value`
    /// moved to bit 31 of every lane), not by a branch, which mispredicts on half of the values
    /// (their signs are random). `sum + (−r)` is `sum − r` exactly (IEEE 754 defines subtraction
    /// so), so the sum is bit-identical to the branching form's.
    @inline(__always)
    mutating func add(_ value: UInt64) {
        guard let base else { return }
        let offset = Int(truncatingIfNeeded: value >> shift) &* (HashedModel.hiddenRow * MemoryLayout<Float>.stride)
        let r = base.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt32>.self)
        let sign = UInt32(truncatingIfNeeded: value >> 40) << 31
        sum += unsafeBitCast(r ^ SIMD8<UInt32>(repeating: sign), to: SIMD8<Float>.self)
        count &+= 1
    }
}

/// ``RowSink`` in two steps: values are queued (the feature loop only hashes) and each full queue
/// is summed in a tight loop whose row loads do not wait for one another, so the cache misses on
/// the table overlap instead of stalling the hashing one at a time. The values are summed in
/// feature order into one accumulator, exactly as ``RowSink`` sums them: the same bits.
struct BatchedRowSink: FeatureSink {
    /// Values queued before a flush (2 KB on the stack).
    static let capacity = 256

    let shift: UInt64
    /// The table's first row.
    let base: UnsafeRawPointer
    /// Room for ``capacity`` values.
    let queue: UnsafeMutablePointer<UInt64>
    var queued = 0
    var sum = SIMD8<Float>(repeating: 0)
    var count = 0

    init(shift: UInt64, base: UnsafeRawPointer, queue: UnsafeMutablePointer<UInt64>) {
        self.shift = shift
        self.base = base
        self.queue = queue
    }

    @inline(__always)
    mutating func add(_ value: UInt64) {
        if queued == Self.capacity { flush() }
        queue[queued] = value
        queued &+= 1
    }

    /// Writes `value` in any case and counts it only if `condition` holds: no branch on a
    /// condition that depends on the text (word length), which the processor would mispredict.
    @inline(__always)
    mutating func add(_ value: UInt64, if condition: Bool) {
        if queued == Self.capacity { flush() }
        queue[queued] = value
        queued &+= condition ? 1 : 0
    }

    /// Flushes when fewer than `count` slots are free (`count` ≤ ``capacity``): flushing early
    /// sums the same values in the same order into the same accumulator, so the sum is the same.
    @inline(__always)
    mutating func reserve(_ count: Int) {
        if queued > Self.capacity - count { flush() }
    }

    @inline(__always)
    mutating func addReserved(_ value: UInt64) {
        queue[queued] = value
        queued &+= 1
    }

    @inline(__always)
    mutating func addReserved(_ value: UInt64, if condition: Bool) {
        queue[queued] = value
        queued &+= condition ? 1 : 0
    }

    /// Sums the queued values (in order) and empties the queue.
    @inline(never)
    mutating func flush() {
        var total = sum
        for i in 0..<queued {
            let value = queue[i]
            let offset = Int(truncatingIfNeeded: value >> shift) &* (HashedModel.hiddenRow * MemoryLayout<Float>.stride)
            let r = base.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt32>.self)
            let sign = UInt32(truncatingIfNeeded: value >> 40) << 31
            total += unsafeBitCast(r ^ SIMD8<UInt32>(repeating: sign), to: SIMD8<Float>.self)
        }
        sum = total
        count &+= queued
        queued = 0
    }
}

/// Counts the values only.
struct CountingSink: FeatureSink {
    var count = 0

    @inline(__always)
    mutating func add(_ value: UInt64) {
        count += 1
    }
}

/// Passes each value to a closure (tests and diagnostics).
struct ClosureSink: FeatureSink {
    let body: (UInt64) -> Void

    @inline(__always)
    mutating func add(_ value: UInt64) {
        body(value)
    }
}
