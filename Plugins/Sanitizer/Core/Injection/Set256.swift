/// A set of the integers 0–255 in four 64-bit words: a rule's alphabet of bytes
/// (``RuleAlphabet``) or the anchor groups found in a text (``AnchorGroups``).
struct Set256: Sendable, Equatable {
    /// Bit `v & 63` of word `v >> 6` is member `v` (a homogeneous tuple: contiguous, so a
    /// Hyperscan callback can set bits through one pointer).
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    static func == (a: Set256, b: Set256) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    /// Every member.
    static let all: Set256 = {
        var set = Set256()
        set.words = (.max, .max, .max, .max)
        return set
    }()

    /// Whether `value` is a member (false outside 0–255).
    @inline(__always)
    func contains(_ value: Int) -> Bool {
        let bit = UInt64(1) << UInt64(value & 63)
        switch value >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        case 3: return words.3 & bit != 0
        default: return false
        }
    }

    /// Whether `byte` is a member; selects the word with conditional moves (no jump table: this
    /// runs per byte of a window).
    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let low = byte < 64 ? words.0 : words.1
        let high = byte < 192 ? words.2 : words.3
        return ((byte < 128 ? low : high) >> UInt64(byte & 63)) & 1 != 0
    }

    /// Adds `value` (ignored outside 0–255).
    @inline(__always)
    mutating func insert(_ value: Int) {
        let bit = UInt64(1) << UInt64(value & 63)
        switch value >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        case 3: words.3 |= bit
        default: break
        }
    }

    @inline(__always)
    mutating func insert(_ byte: UInt8) { insert(Int(byte)) }

    mutating func formUnion(_ other: Set256) {
        words.0 |= other.words.0
        words.1 |= other.words.1
        words.2 |= other.words.2
        words.3 |= other.words.3
    }

    /// Whether every member of this set is in `other`.
    @inline(__always)
    func isSubset(of other: Set256) -> Bool {
        (words.0 & ~other.words.0) | (words.1 & ~other.words.1) | (words.2 & ~other.words.2) | (words.3 & ~other.words.3) == 0
    }

    /// Every value of 0–255 not in this set.
    var complement: Set256 {
        var set = Set256()
        set.words = (~words.0, ~words.1, ~words.2, ~words.3)
        return set
    }

    /// The smallest value not in the set, nil when it holds every value.
    var firstNonMember: UInt8? {
        for (k, word) in [words.0, words.1, words.2, words.3].enumerated() where word != .max {
            return UInt8(k * 64 + (~word).trailingZeroBitCount)
        }
        return nil
    }

    /// The number of members.
    var count: Int {
        words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount + words.3.nonzeroBitCount
    }

    /// `body` with the four words as one mutable buffer (the context of a Hyperscan callback).
    mutating func withWords<T>(_ body: (UnsafeMutablePointer<UInt64>) -> T) -> T {
        withUnsafeMutablePointer(to: &words) { tuple in
            tuple.withMemoryRebound(to: UInt64.self, capacity: 4, body)
        }
    }
}
