/// Rebuff-style phrase similarity to known instruction-override phrases, bounded and cheap.
///
/// Tokens are the maximal runs of ASCII `[a-z0-9]` in the first `maxAnalysedBytes` bytes of the
/// normalised text. At each token that starts a verb phrase (ignore, disregard, skip, forget,
/// neglect, overlook, omit, bypass, override, discard, dismiss, "pay no attention to", "do not
/// follow", "do not obey", "don t follow", "don t obey", "stop following") the next six tokens
/// are searched for an adjective (prior, previous, preceding, above, foregoing, earlier, initial,
/// original) and an object (instructions, prompt, rules, context, …). The similarity of that
/// position is (2 + adjective + 2·object) / 5 ∈ {0.4, 0.6, 0.8, 1}; the text's score is the
/// maximum (0 without a verb). Single words match with one typo (optimal string alignment
/// distance ≤ 1) when the listed word has at least 5 letters and the token at least 4, so
/// "ignroe all previuos instructons" still scores 1. Work: O(tokens × list size).
struct PhraseHeuristic: Sendable {
    static let verbs: [[[UInt8]]] = [
        ["ignore"], ["disregard"], ["skip"], ["forget"], ["neglect"], ["overlook"], ["omit"], ["bypass"], ["override"],
        ["discard"], ["dismiss"], ["pay", "no", "attention", "to"], ["do", "not", "follow"], ["do", "not", "obey"],
        ["don", "t", "follow"], ["don", "t", "obey"], ["stop", "following"],
    ].map { $0.map { Array($0.utf8) } }
    static let adjectives: [[UInt8]] = ["prior", "previous", "preceding", "above", "foregoing", "earlier", "initial", "original"]
        .map { Array($0.utf8) }
    static let objects: [[UInt8]] = [
        "content", "text", "instructions", "instruction", "directives", "directive", "commands", "command", "context",
        "conversation", "input", "inputs", "data", "message", "messages", "communication", "response", "responses",
        "request", "requests", "prompt", "prompts", "rules", "guidelines", "directions", "programming",
    ].map { Array($0.utf8) }
    static let window = 6
    /// For a token of length L (index, capped at 16): the indices of the verbs it can start, that
    /// is the single-word verbs `near` can accept at that length (|L − length| ≤ 1 for words of
    /// at least 5 bytes, exact length otherwise) and the multi-word verbs whose first word has
    /// length L. Skips the other `near` calls, which would return false (same result, less work).
    static let verbsByLength: [[Int]] = (0...16).map { length in
        verbs.indices.filter { v in
            let first = verbs[v][0].count
            if verbs[v].count > 1 || first < 5 || length < 4 { return first == length }
            return abs(first - length) <= 1
        }
    }

    /// ``verbsByLength`` as bit sets (bit v = verb v), read without reference counting.
    static let lengthMasks: [UInt32] = verbsByLength.map { $0.reduce(UInt32(0)) { $0 | UInt32(1) << UInt32($1) } }
    /// Per token length: the verbs of ``lengthMasks`` that `near` may accept with one typo (the
    /// single-word verbs of at least 5 bytes, for tokens of at least 4 bytes).
    static let typoMasks: [UInt32] = (0...16).map { length in
        verbsByLength[length].reduce(UInt32(0)) { mask, v in
            verbs[v].count == 1 && verbs[v][0].count >= 5 && length >= 4 ? mask | UInt32(1) << UInt32(v) : mask
        }
    }
    /// Per verb: the first two bytes of its first word (every first word has at least two).
    static let heads: [UInt16] = verbs.map { UInt16($0[0][0]) | UInt16($0[0][1]) << 8 }
    /// Per verb: the last two bytes of its first word.
    static let tails: [UInt16] = verbs.map { UInt16($0[0][$0[0].count - 2]) | UInt16($0[0][$0[0].count - 1]) << 8 }

    /// A necessary condition for two bytes `t0 t1` at one end of a token to match the two bytes
    /// `pair` at the same end of a word (checked before the full comparison, so it never changes
    /// a result): the exact match needs both equal; one edit (substitution, insertion, deletion
    /// or transposition) leaves `t0 == w0`, or moves/replaces that end byte so that `t0 == w1`,
    /// `t1 == w1` or `t1 == w0`.
    @inline(__always)
    static func mayMatch(_ t0: UInt8, _ t1: UInt8, pair: UInt16, typo: Bool) -> Bool {
        let w0 = UInt8(truncatingIfNeeded: pair)
        let w1 = UInt8(truncatingIfNeeded: pair >> 8)
        if typo { return t0 == w0 || t0 == w1 || t1 == w1 || t1 == w0 }
        return t0 == w0 && t1 == w1
    }

    /// A necessary condition for the token `t` (at least two bytes) to start verb phrase `v`:
    /// ``mayMatch(_:_:pair:typo:)`` at its start and, for a one-typo comparison, at its end too
    /// (an edit reversed is an edit, so the same argument holds read backwards).
    @inline(__always)
    static func mayStart(_ t: UnsafeBufferPointer<UInt8>, head: UInt16, tail: UInt16, typo: Bool) -> Bool {
        guard mayMatch(t[0], t[1], pair: head, typo: typo) else { return false }
        guard typo else { return true }
        let last = t.count - 1
        return mayMatch(t[last - 1], t[last], pair: (tail >> 8) | (tail << 8), typo: true)
    }

    /// ``mayStart(_:head:tail:typo:)`` as bit sets over all verbs, by byte, so that a token's
    /// candidate verbs are found with a few loads and no branch per verb:
    /// - `anyFirst[c]`: typo verbs with `c` among their first two bytes; a token may start one
    ///   of them only if `anyFirst[t0] | anyFirst[t1]` has its bit (and the same with `anyLast`
    ///   for its last two bytes);
    /// - `exactFirst[c]` / `exactSecond[c]`: verbs whose first word starts with `c` / has `c`
    ///   second (for exact comparisons).
    /// Typo and exact bits are told apart by ``typoMasks`` (InjectionFastPathTests compares the
    /// tables with `mayStart` on every pair of token bytes).
    static let anyFirst: [UInt32] = byteMasks { v, c in heads[v] & 0xFF == c || heads[v] >> 8 == c }
    static let anyLast: [UInt32] = byteMasks { v, c in tails[v] & 0xFF == c || tails[v] >> 8 == c }
    static let exactFirst: [UInt32] = byteMasks { v, c in heads[v] & 0xFF == c }
    static let exactSecond: [UInt32] = byteMasks { v, c in heads[v] >> 8 == c }

    private static func byteMasks(_ holds: (Int, UInt16) -> Bool) -> [UInt32] {
        (0..<256).map { c in verbs.indices.reduce(UInt32(0)) { holds($1, UInt16(c)) ? $0 | UInt32(1) << UInt32($1) : $0 } }
    }

    /// The verbs token `t` (2 to 16 bytes) may start: the bit set of the verbs `v` of its length
    /// for which ``mayStart(_:head:tail:typo:)`` holds, from the byte tables.
    @inline(__always)
    static func candidateVerbs(
        _ t: UnsafeBufferPointer<UInt8>, lengthMask: UInt32, typoMask: UInt32, tables: UnsafePointer<UInt32>
    ) -> UInt32 {
        let last = t.count - 1
        let t0 = Int(t[0])
        let t1 = Int(t[1])
        let typo = (tables[t0] | tables[t1]) & (tables[256 + Int(t[last - 1])] | tables[256 + Int(t[last])])
        let exact = tables[512 + t0] & tables[768 + t1]
        return lengthMask & ((typo & typoMask) | (exact & ~typoMask))
    }

    /// The four byte tables in one array: anyFirst, anyLast, exactFirst, exactSecond.
    static let byteTables: [UInt32] = anyFirst + anyLast + exactFirst + exactSecond

    let maxAnalysedBytes: Int

    /// `t` equals `w`, or `w` has at least 5 bytes, `t` at least 4, and they are one edit apart
    /// (substitution, insertion, deletion or adjacent transposition).
    static func near(_ t: UnsafeBufferPointer<UInt8>, _ w: [UInt8]) -> Bool {
        let lt = t.count
        let lw = w.count
        if lt == lw && t.elementsEqual(w) { return true }
        if lw < 5 || lt < 4 || abs(lt - lw) > 1 { return false }
        if lt == lw {
            var first = -1
            var second = -1
            for i in 0..<lt where t[i] != w[i] {
                if first < 0 {
                    first = i
                } else if second < 0 {
                    second = i
                } else {
                    return false
                }
            }
            if second < 0 { return first >= 0 }
            return second == first + 1 && t[first] == w[second] && t[second] == w[first]
        }
        return w.withUnsafeBufferPointer { wb in
            let (a, b) = lt < lw ? (t, wb) : (wb, t)
            var i = 0
            while i < a.count && a[i] == b[i] { i += 1 }
            var j = i
            while j < a.count {
                if a[j] != b[j + 1] { return false }
                j += 1
            }
            return true
        }
    }

    func score(normalized: String) -> Double {
        var text = normalized
        return text.withUTF8 { utf8 in
            score(bytes: UnsafeBufferPointer(rebasing: utf8.prefix(maxAnalysedBytes)))
        }
    }

    func score(bytes: UnsafeBufferPointer<UInt8>) -> Double {
        score(bytes: bytes, tokens: nil)
    }

    /// ``score(bytes:)``. `tokens`, when given, are the tokens of `bytes` in order (the model's
    /// words of a text with no byte `>= 0x80` and no upper-case ASCII are exactly these tokens):
    /// the main loop then reads them instead of finding them in the bytes again.
    func score(bytes: UnsafeBufferPointer<UInt8>, tokens: UnsafeBufferPointer<Range<Int>>?) -> Double {
        Self.lengthMasks.withUnsafeBufferPointer { lengthMasks in
            Self.typoMasks.withUnsafeBufferPointer { typoMasks in
                Self.byteTables.withUnsafeBufferPointer { tables in
                    score(bytes: bytes, tokens: tokens, lengthMasks: lengthMasks, typoMasks: typoMasks, tables: tables)
                }
            }
        }
    }

    private func score(
        bytes: UnsafeBufferPointer<UInt8>, tokens: UnsafeBufferPointer<Range<Int>>?, lengthMasks: UnsafeBufferPointer<UInt32>,
        typoMasks: UnsafeBufferPointer<UInt32>, tables: UnsafeBufferPointer<UInt32>
    ) -> Double {
        // Tokens are read from the bytes as needed (no token array): the text once, plus the few
        // tokens after a verb phrase.
        let n = bytes.count
        @inline(__always) func isToken(_ b: UInt8) -> Bool { (b &- 0x61) < 26 || (b &- 0x30) < 10 }
        /// The first token starting at or after byte `position`, or nil.
        @inline(__always) func nextToken(_ position: Int) -> Range<Int>? {
            var index = position
            while index < n && !isToken(bytes[index]) { index += 1 }
            guard index < n else { return nil }
            let start = index
            while index < n && isToken(bytes[index]) { index += 1 }
            return start..<index
        }
        @inline(__always) func token(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[range])
        }
        var best = 0.0
        var cursor = 0
        var tokenIndex = 0
        while true {
            let current: Range<Int>
            if let tokens {
                guard tokenIndex < tokens.count else { break }
                current = tokens[tokenIndex]
                tokenIndex += 1
            } else {
                guard let next = nextToken(cursor) else { break }
                current = next
                cursor = current.upperBound
            }
            let length = current.count
            guard length <= 16 else { continue }
            let lengthMask = lengthMasks[length]
            guard lengthMask != 0, let tableBase = tables.baseAddress else { continue }
            // Every verb's first word has at least two bytes, so the token has two.
            var candidates = Self.candidateVerbs(token(current), lengthMask: lengthMask, typoMask: typoMasks[length], tables: tableBase)
            // The byte offset after the verb phrase that starts here, or -1.
            var end = -1
            while candidates != 0 {
                let v = candidates.trailingZeroBitCount
                candidates &= candidates - 1
                let verb = Self.verbs[v]
                if verb.count == 1 {
                    if Self.near(token(current), verb[0]) {
                        end = current.upperBound
                        break
                    }
                } else {
                    var all = token(current).elementsEqual(verb[0])
                    var position = current.upperBound
                    var k = 1
                    while all && k < verb.count {
                        guard let next = nextToken(position) else {
                            all = false
                            break
                        }
                        all = token(next).elementsEqual(verb[k])
                        position = next.upperBound
                        k += 1
                    }
                    if all {
                        end = position
                        break
                    }
                }
            }
            if end < 0 { continue }
            var adjective = false
            var object = false
            var position = end
            for _ in 0..<Self.window {
                guard let next = nextToken(position) else { break }
                position = next.upperBound
                let t = token(next)
                if !adjective { adjective = Self.adjectives.contains { Self.near(t, $0) } }
                if !object { object = Self.objects.contains { Self.near(t, $0) } }
            }
            best = max(best, Double(2 + (adjective ? 1 : 0) + (object ? 2 : 0)) / 5.0)
            if best == 1.0 { break }
        }
        return best
    }
}
