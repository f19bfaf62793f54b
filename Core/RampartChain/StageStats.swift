import Synchronization

/// Per-plugin counters and a latency histogram. Outcomes are counted separately, so a plugin
/// that errors is never reported as having passed.
public final class StageStats: Sendable {
    /// Upper bounds of the latency buckets, in microseconds (the last bucket is open-ended).
    public static let bucketBoundsMicros: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 5_000, 50_000]

    private let counters = Mutex<Snapshot>(Snapshot())

    /// A consistent copy of the counters.
    public struct Snapshot: Sendable, Hashable {
        public var passed = 0
        public var denied = 0
        public var mutated = 0
        public var errored = 0
        public var skipped = 0
        public var timedOut = 0
        public var buckets = [Int](repeating: 0, count: StageStats.bucketBoundsMicros.count + 1)
        public var totalMicros = 0.0
    }

    public init() {}

    public var snapshot: Snapshot { counters.withLock { $0 } }

    func record(_ outcome: Outcome, micros: Double) {
        let bucket = Self.bucketBoundsMicros.firstIndex { micros <= $0 } ?? Self.bucketBoundsMicros.count
        counters.withLock { s in
            switch outcome {
            case .passed: s.passed += 1
            case .denied: s.denied += 1
            case .mutated: s.mutated += 1
            case .errored: s.errored += 1
            case .skipped: s.skipped += 1
            case .timedOut: s.timedOut += 1; s.errored += 1
            }
            s.buckets[bucket] += 1
            s.totalMicros += micros
        }
    }

    enum Outcome { case passed, denied, mutated, errored, skipped, timedOut }
}
