/// Matches of a scan gathered into one array of packed integers by the Hyperscan callback itself
/// (``PatternDatabase/collect(_:window:into:)``, ``GatedPatternSet/collect(_:into:)``): no
/// closure per scan or per window, so no heap-allocated closure context or captured-variable box
/// (a Swift handler passed to C through `withoutActuallyEscaping` costs both), and no closure call
/// per match.
///
/// Each match is `id << 56 | start << 24 | (2^24 − 1 − length)`: sorting the plain integers
/// groups matches by id and start, longest first. Ids must be below 256 and offsets below 2^24
/// (``maxInputBytes``); the scans refuse larger inputs.
public struct PackedMatches: Sendable {
    /// The largest input whose offsets fit the packing.
    public static let maxInputBytes = (1 << 24) - 1

    /// The packed matches, in the order the scans reported them.
    public var values: [UInt64] = []
    /// Most matches kept: the scan stops when one more is reported (``overflowed``).
    public let limit: Int
    /// Whether a match was reported past ``limit`` (the scan stopped there).
    public private(set) var overflowed = false

    /// The window being scanned: its offset in the input, and the offsets where a match made by
    /// its artificial edges starts or ends (−1: that edge is the input's own).
    var offset = 0
    var dropStart = -1
    var dropEnd = -1

    /// An empty collection keeping at most `limit` matches, with room reserved for `capacity`.
    public init(limit: Int, capacity: Int = 0) {
        self.limit = limit
        if capacity > 0 { values.reserveCapacity(capacity) }
    }

    /// The packed form of a match (`to - from` clamped at 0, as the scanner packs it).
    @inline(__always)
    public static func pack(id: UInt32, from: Int, to: Int) -> UInt64 {
        UInt64(id) << 56 | UInt64(from) << 24 | (0xFF_FFFF - UInt64(max(0, to - from)))
    }

    /// Records a match at window offsets `from..<to`; false when the scan must stop (limit).
    @inline(__always)
    mutating func add(id: UInt32, from: Int, to: Int) -> Bool {
        let start = offset + from, end = offset + to
        if start == dropStart || end == dropEnd { return true }
        if values.count >= limit {
            overflowed = true
            return false
        }
        values.append(Self.pack(id: id, from: start, to: end))
        return true
    }
}
