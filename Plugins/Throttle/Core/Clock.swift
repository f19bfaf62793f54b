#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The time source of the local limiter, in microseconds. Injected so tests can move time
/// (including backwards) without sleeping.
public protocol ThrottleClock: Sendable {
    /// Now, in microseconds on this clock's epoch.
    func nowMicros() -> Int64
}

/// The wall clock (`CLOCK_REALTIME`): shared across processes, may jump (GCRA tolerates it).
public struct SystemClock: ThrottleClock {
    public init() {}

    public func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000 &+ Int64(ts.tv_nsec) / 1000
    }
}

/// The monotonic clock (`CLOCK_MONOTONIC`), for measuring waits.
enum MonotonicClock {
    static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000 &+ Int64(ts.tv_nsec) / 1000
    }
}

/// A clock that moves only when told to: for tests and the benchmark.
public final class ManualClock: ThrottleClock {
    private let now: Atomic<Int64>

    public init(micros: Int64 = 1_700_000_000_000_000) {
        now = Atomic(micros)
    }

    public func nowMicros() -> Int64 { now.load(ordering: .relaxed) }

    /// Moves the clock by `delta` microseconds (negative = backwards).
    public func advance(micros delta: Int64) {
        now.wrappingAdd(delta, ordering: .relaxed)
    }

    /// Sets the clock.
    public func set(micros: Int64) {
        now.store(micros, ordering: .relaxed)
    }
}

extension Int64 {
    /// `self + other`, pinned to the Int64 range instead of trapping.
    @inlinable func saturatingAdd(_ other: Int64) -> Int64 {
        let (value, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : value
    }

    /// `self · other`, pinned to the Int64 range instead of trapping.
    @inlinable func saturatingMultiply(_ other: Int64) -> Int64 {
        let (value, overflow) = multipliedReportingOverflow(by: other)
        if overflow { return (self < 0) == (other < 0) ? .max : .min }
        return value
    }

    /// `self − other`, pinned to the Int64 range instead of trapping.
    @inlinable func saturatingSubtract(_ other: Int64) -> Int64 {
        let (value, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : value
    }
}
