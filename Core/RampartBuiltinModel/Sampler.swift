import Foundation

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64. Small, fast and fully
/// determined by its seed, so the same seed and request reproduce the same output.
struct Xoshiro256StarStar: RandomNumberGenerator {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init(seed: UInt64) {
        var mix = seed
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Reusable per-request buffers, so a generation step allocates nothing (unless
/// top log-probabilities are requested).
struct SamplerWorkspace {
    var probabilities: [Float]
    var logits: [Float]
    var candidates: [Int32]
    var weights: [Float]

    init(vocabularySize: Int) {
        probabilities = [Float](repeating: 0, count: vocabularySize)
        logits = [Float](repeating: 0, count: vocabularySize)
        candidates = [Int32](repeating: 0, count: vocabularySize)
        weights = [Float](repeating: 0, count: vocabularySize)
    }
}

/// The sampling transforms; see ``BuiltinModel`` for the order in which they run.
enum Sampler {
    /// Total order used everywhere: higher logit first, then lower id.
    @inline(__always)
    static func better(_ a: Int32, _ b: Int32, _ logits: UnsafeBufferPointer<Float>) -> Bool {
        let x = logits[Int(a)]
        let y = logits[Int(b)]
        return x > y || (x == y && a < b)
    }

    /// Replaces NaN with -inf and +inf with the largest finite value; returns the maximum
    /// and its (lowest) index, or `nil` when every logit is -inf.
    static func sanitize(_ logits: UnsafeMutableBufferPointer<Float>) -> (max: Float, argmax: Int)? {
        var best = -Float.infinity
        var argmax = -1
        for i in 0..<logits.count {
            var value = logits[i]
            if value.isNaN {
                value = -.infinity
                logits[i] = value
            } else if value == .infinity {
                value = .greatestFiniteMagnitude
                logits[i] = value
            }
            if value > best {
                best = value
                argmax = i
            }
        }
        return argmax < 0 ? nil : (best, argmax)
    }

    /// `log(sum(exp(logits)))`, computed stably around `maxLogit`.
    static func logSumExp(_ logits: UnsafeBufferPointer<Float>, maxLogit: Float) -> Float {
        var sum = 0.0
        for value in logits where value > -.infinity {
            sum += Double(exp(value - maxLogit))
        }
        return maxLogit + Float(log(sum))
    }

    /// The `count` best tokens (highest logit first, ties by lower id), skipping -inf.
    static func best(_ count: Int, _ logits: UnsafeBufferPointer<Float>) -> [Int32] {
        guard count > 0 else { return [] }
        var top: [Int32] = []
        top.reserveCapacity(count + 1)
        for i in 0..<logits.count where logits[i] > -.infinity {
            let id = Int32(i)
            if top.count == count {
                guard let last = top.last, better(id, last, logits) else { continue }
                top.removeLast()
            }
            var position = top.count
            while position > 0, better(id, top[position - 1], logits) { position -= 1 }
            top.insert(id, at: position)
        }
        return top
    }

    /// Temperature → top-k → top-p → a draw from the remaining mass.
    /// - Precondition: `temperature > 0`, `maxLogit` is the finite maximum of `logits`.
    static func sample(
        _ logits: UnsafeBufferPointer<Float>, maxLogit: Float, temperature: Float, topK: Int, topP: Float,
        rng: inout Xoshiro256StarStar, candidates: UnsafeMutableBufferPointer<Int32>,
        weights: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        let inverseTemperature = 1 / temperature
        var count = 0
        for i in 0..<logits.count where logits[i] > -.infinity {
            candidates[count] = Int32(i)
            count += 1
        }
        if topK > 0, topK < count {
            selectBest(topK, of: count, candidates, logits)
            count = topK
        }
        var total = 0.0
        for j in 0..<count {
            let weight = exp((logits[Int(candidates[j])] - maxLogit) * inverseTemperature)
            weights[j] = weight
            total += Double(weight)
        }
        if topP < 1, count > 1 {
            count = selectNucleus(mass: Double(topP) * total, of: count, candidates, weights, logits)
            total = 0
            for j in 0..<count { total += Double(weights[j]) }
        }
        guard count > 0 else { return 0 }
        var remaining = rng.nextUnit() * total
        for j in 0..<count {
            remaining -= Double(weights[j])
            if remaining < 0 { return Int(candidates[j]) }
        }
        return Int(candidates[count - 1])
    }

    /// Moves the nucleus to the front of `candidates` (with `weights` kept aligned) and
    /// returns its size: the smallest set of best tokens (in the order of
    /// ``better(_:_:_:)``) whose weights reach `mass`. A weighted quickselect, O(count)
    /// expected, instead of a full sort.
    static func selectNucleus(
        mass: Double, of count: Int, _ candidates: UnsafeMutableBufferPointer<Int32>,
        _ weights: UnsafeMutableBufferPointer<Float>, _ logits: UnsafeBufferPointer<Float>
    ) -> Int {
        func swap(_ a: Int, _ b: Int) {
            candidates.swapAt(a, b)
            weights.swapAt(a, b)
        }
        // Invariant: [0, lo) is inside the nucleus, its last token lies in [lo, hi),
        // and `need` is the mass still missing after [0, lo).
        var lo = 0
        var hi = count
        var need = mass
        while hi - lo > 1 {
            let mid = (lo + hi - 1) >> 1
            let last = hi - 1
            if better(candidates[mid], candidates[lo], logits) { swap(mid, lo) }
            if better(candidates[last], candidates[lo], logits) { swap(last, lo) }
            if better(candidates[last], candidates[mid], logits) { swap(last, mid) }
            swap(mid, last)
            let pivot = candidates[last]
            var store = lo
            var upper = 0.0
            for i in lo..<last where better(candidates[i], pivot, logits) {
                upper += Double(weights[i])
                swap(i, store)
                store += 1
            }
            swap(store, last)
            if upper >= need, store > lo {
                hi = store
            } else if upper + Double(weights[store]) >= need {
                return store + 1
            } else {
                need -= upper + Double(weights[store])
                lo = store + 1
                if lo >= hi { return count }  // rounding: the whole set
            }
        }
        return min(count, lo + 1)
    }

    /// Moves the `k` best of `candidates[0..<count]` to the front (unordered): quickselect
    /// with a median-of-three pivot under the strict total order ``better(_:_:_:)``.
    static func selectBest(_ k: Int, of count: Int, _ candidates: UnsafeMutableBufferPointer<Int32>, _ logits: UnsafeBufferPointer<Float>) {
        guard k > 0, k < count else { return }
        var lo = 0
        var hi = count - 1
        let target = k - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if better(candidates[mid], candidates[lo], logits) { candidates.swapAt(mid, lo) }
            if better(candidates[hi], candidates[lo], logits) { candidates.swapAt(hi, lo) }
            if better(candidates[hi], candidates[mid], logits) { candidates.swapAt(hi, mid) }
            // lo ≥ mid ≥ hi in rank; use mid as the pivot, parked at hi.
            candidates.swapAt(mid, hi)
            let pivot = candidates[hi]
            var store = lo
            for i in lo..<hi where better(candidates[i], pivot, logits) {
                candidates.swapAt(i, store)
                store += 1
            }
            candidates.swapAt(store, hi)
            if store == target { return }
            if store < target { lo = store + 1 } else { hi = store - 1 }
        }
    }
}
