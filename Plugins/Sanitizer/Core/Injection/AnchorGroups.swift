/// The rules' anchor groups (``HyperscanRuleSet``: the `requires` groups and their rot13 images)
/// that occur in a text, one bit per group (at most ``HyperscanRuleSet/maximumAnchorGroups``).
struct AnchorGroups: Sendable, Equatable {
    /// Bit `g & 63` of word `g >> 6` is group `g` (a homogeneous tuple: contiguous, so a
    /// Hyperscan callback can set bits through one pointer).
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: AnchorGroups, b: AnchorGroups) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    @inline(__always)
    func contains(_ group: Int) -> Bool {
        let bit = UInt64(1) << UInt64(group & 63)
        switch group >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        case 3: return words.3 & bit != 0
        default: return false
        }
    }

    @inline(__always)
    mutating func insert(_ group: Int) {
        let bit = UInt64(1) << UInt64(group & 63)
        switch group >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        case 3: words.3 |= bit
        default: break
        }
    }

    /// The set of the groups in `groups`.
    init(_ groups: Range<Int>) {
        for g in groups { insert(g) }
    }

    init() {}

    /// Whether every group of this set is in `other`.
    @inline(__always)
    func isSubset(of other: AnchorGroups) -> Bool {
        (words.0 & ~other.words.0) | (words.1 & ~other.words.1) | (words.2 & ~other.words.2) | (words.3 & ~other.words.3) == 0
    }

    mutating func formUnion(_ other: AnchorGroups) {
        words.0 |= other.words.0
        words.1 |= other.words.1
        words.2 |= other.words.2
        words.3 |= other.words.3
    }

    /// `body` with the four words as one mutable buffer (the context of a Hyperscan callback).
    mutating func withWords<T>(_ body: (UnsafeMutablePointer<UInt64>) -> T) -> T {
        withUnsafeMutablePointer(to: &words) { tuple in
            tuple.withMemoryRebound(to: UInt64.self, capacity: 4, body)
        }
    }
}
