/// Finds PII and secrets in text: Hyperscan over all candidate expressions (linear time, no
/// backtracking; the expressions that need a digit or a long word run only near one, see
/// ``GatedPatternSet``), then Swift validators on the candidates, then overlap resolution (higher
/// priority, then longer, wins; other types confirmed on exactly the winner's bytes become its
/// ``SensitiveFinding/alternatives``).
public final class SensitiveDataScanner: Sendable {
    /// The rules compiled into this scanner.
    public let rules: [SensitiveRule]
    private let database: GatedPatternSet
    /// Most candidates examined per scan; beyond it the scan fails (callers fail closed).
    public let maxCandidates: Int

    /// A scanner over `rules` (default: every PII and secret rule).
    public init(rules: [SensitiveRule] = PIIRules.all + SecretRules.all, maxCandidates: Int = 200_000) throws(PatternError) {
        self.rules = rules
        self.maxCandidates = maxCandidates
        database = try GatedPatternSet(rules.enumerated().map { index, rule in
            PatternSpec(rule.expression, id: UInt32(index), caseless: rule.caseless)
        })
    }

    /// A scanner restricted to the given types (and categories).
    public convenience init(types: Set<String>?, categories: Set<SensitiveCategory> = [.pii, .secret]) throws(PatternError) {
        let selected = (PIIRules.all + SecretRules.all).filter { rule in
            categories.contains(rule.category) && (types?.contains(rule.type) ?? true)
        }
        try self.init(rules: selected)
    }

    /// The distinct types this scanner reports.
    public var types: [String] { Array(Set(rules.map(\.type))).sorted() }

    /// Findings in `text`, sorted by position, without overlaps. `scope` says whether `text` is a
    /// whole field (a message, a value) or a fragment (a stream chunk): only in a whole field can a
    /// candidate be a whole-field value (``ScanContext``).
    public func scan(_ text: String, scope: ScanScope = .fragment) throws(PatternError) -> [SensitiveFinding] {
        try scan(bytes: Array(text.utf8), scope: scope)
    }

    /// Largest input a scan accepts (offsets and lengths are packed into 24 bits).
    public static let maxInputBytes = (1 << 24) - 1

    /// Findings in UTF-8 `bytes` (`scope` as in ``scan(_:scope:)``).
    public func scan(bytes: [UInt8], scope: ScanScope = .fragment) throws(PatternError) -> [SensitiveFinding] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.count <= Self.maxInputBytes, rules.count <= 255 else {
            throw PatternError(expressionIndex: -1, message: "input larger than \(Self.maxInputBytes) bytes")
        }
        // Every (rule, start, end) Hyperscan reports, packed into one UInt64 as
        // rule << 56 | start << 24 | (2^24 − 1 − length): sorting the plain integers groups the
        // matches by rule and start, longest first, with no per-match allocation or closure.
        // (``PackedMatches``, gathered by the Hyperscan callback itself.) Prose yields a few
        // candidates per hundred bytes; growth past the reserve is amortised.
        let limit = maxCandidates * 4
        var collected = PackedMatches(limit: limit, capacity: min(4096, bytes.count / 16 + 16))
        let result: Result<Void, PatternError> = bytes.withUnsafeBytes { raw in
            do throws(PatternError) {
                try database.collect(raw, into: &collected)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        if collected.overflowed { throw PatternError(expressionIndex: -1, message: "more than \(limit) candidate matches") }
        var matches = collected.values
        collected.values = []
        matches.sort()
        let context = ScanContext(bytes, scope: scope)
        // Confirmed findings, packed for the overlap order (higher priority, then longer, then
        // earlier, then lower rule index): (15 − priority) << 60 | (2^24 − 1 − length) << 36 |
        // start << 12 | rule << 4.
        var found: [UInt64] = []
        var candidates = 0
        var i = 0
        while i < matches.count {
            let key = matches[i] >> 24
            var groupEnd = i + 1
            while groupEnd < matches.count, matches[groupEnd] >> 24 == key { groupEnd += 1 }
            defer { i = groupEnd }
            candidates += 1
            if candidates > maxCandidates { throw PatternError(expressionIndex: -1, message: "more than \(maxCandidates) candidates") }
            let index = Int(key >> 32), start = Int(key & 0xFFFF_FFFF)
            guard index < rules.count else { continue }
            let rule = rules[index]
            // The four longest ends of this (rule, start), longest first.
            for j in i..<min(groupEnd, i + 4) {
                let end = start + Int(0xFF_FFFF - (matches[j] & 0xFF_FFFF))
                guard start < end, end <= bytes.count else { continue }
                if let range = rule.validate(bytes, start..<end, context), range.lowerBound >= 0, range.upperBound <= bytes.count, !range.isEmpty {
                    let priority = UInt64(max(0, min(15, rule.priority)))
                    found.append((15 - priority) << 60 | (0xFF_FFFF - UInt64(range.count)) << 36 | UInt64(range.lowerBound) << 12
                                 | UInt64(index) << 4)
                    break
                }
            }
        }
        guard !found.isEmpty else { return [] }
        found.sort()
        // Overlap check on a byte occupancy map: linear in the findings' total length. Losers are
        // kept for the alternatives pass below.
        var accepted: [SensitiveFinding] = []
        var lost: [UInt64] = []
        var taken = [Bool](repeating: false, count: bytes.count)
        for packed in found {
            let (range, index) = Self.unpack(packed)
            var free = true
            for j in range where taken[j] { free = false; break }
            guard free else {
                lost.append(packed)
                continue
            }
            for j in range { taken[j] = true }
            let rule = rules[index]
            accepted.append(SensitiveFinding(type: rule.type, category: rule.category, range: range))
        }
        accepted.sort { $0.range.lowerBound < $1.range.lowerBound }
        // A loser that covers exactly an accepted finding's bytes is one of its alternatives (in
        // overlap order); one that overlaps only in part is another value and is dropped.
        for packed in lost {
            let (range, index) = Self.unpack(packed)
            var low = 0, high = accepted.count
            while low < high {
                let mid = (low + high) / 2
                if accepted[mid].range.lowerBound < range.lowerBound { low = mid + 1 } else { high = mid }
            }
            guard low < accepted.count, accepted[low].range == range else { continue }
            let rule = rules[index]
            guard accepted[low].type != rule.type, !accepted[low].alternatives.contains(where: { $0.type == rule.type }) else { continue }
            accepted[low].alternatives.append(.init(type: rule.type, category: rule.category))
        }
        return accepted
    }

    /// The byte range and rule index of a confirmed finding packed for the overlap order.
    @inline(__always)
    private static func unpack(_ packed: UInt64) -> (range: Range<Int>, rule: Int) {
        let start = Int(packed >> 12 & 0xFF_FFFF), length = Int(0xFF_FFFF - (packed >> 36 & 0xFF_FFFF))
        return (start..<(start + length), Int(packed >> 4 & 0xFF))
    }
}
