/// Finds PII and secrets in text: one Hyperscan pass over all candidate expressions (linear time,
/// no backtracking), then Swift validators on the candidates, then overlap resolution (higher
/// priority, then longer, wins).
public final class SensitiveDataScanner: Sendable {
    /// The rules compiled into this scanner.
    public let rules: [SensitiveRule]
    private let database: PatternDatabase
    /// Most candidates examined per scan; beyond it the scan fails (callers fail closed).
    public let maxCandidates: Int

    /// A scanner over `rules` (default: every PII and secret rule).
    public init(rules: [SensitiveRule] = PIIRules.all + SecretRules.all, maxCandidates: Int = 200_000) throws(PatternError) {
        self.rules = rules
        self.maxCandidates = maxCandidates
        database = try PatternDatabase(rules.enumerated().map { index, rule in
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

    /// Findings in `text`, sorted by position, without overlaps.
    public func scan(_ text: String) throws(PatternError) -> [SensitiveFinding] {
        try scan(bytes: Array(text.utf8))
    }

    /// Findings in UTF-8 `bytes`.
    public func scan(bytes: [UInt8]) throws(PatternError) -> [SensitiveFinding] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.count < 1 << 40 else { throw PatternError(expressionIndex: -1, message: "input too large") }
        // Every (rule, start, end) Hyperscan reports, packed as rule << 40 | start and the end;
        // one flat array (no per-candidate allocation), grouped by sorting afterwards.
        var matches: [(key: UInt64, end: Int)] = []
        var overflow = false
        let limit = maxCandidates * 4
        let result: Result<Void, PatternError> = bytes.withUnsafeBytes { raw in
            do throws(PatternError) {
                try database.scan(raw) { id, from, to in
                    if matches.count >= limit { overflow = true; return false }
                    matches.append((UInt64(id) << 40 | UInt64(from), to))
                    return true
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        if overflow { throw PatternError(expressionIndex: -1, message: "more than \(limit) candidate matches") }
        matches.sort { $0.key != $1.key ? $0.key < $1.key : $0.end > $1.end }
        var found: [(finding: SensitiveFinding, priority: Int, rule: Int)] = []
        var candidates = 0
        var i = 0
        while i < matches.count {
            let key = matches[i].key
            var groupEnd = i + 1
            while groupEnd < matches.count, matches[groupEnd].key == key { groupEnd += 1 }
            defer { i = groupEnd }
            candidates += 1
            if candidates > maxCandidates { throw PatternError(expressionIndex: -1, message: "more than \(maxCandidates) candidates") }
            let index = Int(key >> 40), start = Int(key & 0xFF_FFFF_FFFF)
            guard index < rules.count else { continue }
            let rule = rules[index]
            // The four longest ends of this (rule, start), longest first.
            for j in i..<min(groupEnd, i + 4) {
                let end = matches[j].end
                guard start < end, end <= bytes.count else { continue }
                if let range = rule.validate(bytes, start..<end), range.lowerBound >= 0, range.upperBound <= bytes.count, !range.isEmpty {
                    found.append((SensitiveFinding(type: rule.type, category: rule.category, range: range), rule.priority, index))
                    break
                }
            }
        }
        found.sort { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.finding.range.count != b.finding.range.count { return a.finding.range.count > b.finding.range.count }
            if a.finding.range.lowerBound != b.finding.range.lowerBound { return a.finding.range.lowerBound < b.finding.range.lowerBound }
            return a.rule < b.rule
        }
        // Overlap check on a byte occupancy map: linear in the findings' total length.
        var accepted: [SensitiveFinding] = []
        var taken = [Bool](repeating: false, count: found.isEmpty ? 0 : bytes.count)
        for (finding, _, _) in found where !taken[finding.range].contains(true) {
            for i in finding.range { taken[i] = true }
            accepted.append(finding)
        }
        return accepted.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }
}
