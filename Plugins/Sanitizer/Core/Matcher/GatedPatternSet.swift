import CHyperscan

/// A pattern set that reports exactly what one ``PatternDatabase`` over all its expressions
/// reports (every match, leftmost start), but runs the expressions that are costly on prose only
/// where they can match:
///
/// - expressions whose every match holds a decimal digit (``PatternShape/requiresDigit``) run on
///   windows around the input's digit runs (found with a SIMD pass), in databases by maximum
///   match width (narrow and wide, each with its own window margin) and by the fewest digits a
///   match holds (``PatternShape/minDigits``): a group whose matches all hold `K` digits within
///   `M` bytes runs only around the digit runs from which `K` digits fit in `M` bytes (a lone
///   "7" or "14" in prose wakes no identifier of nine digits);
/// - bounded expressions of word bytes only, at least 16 long (``PatternShape/wordBytesOnly``),
///   run on windows around the runs of that many word bytes (found with a plain scan that looks
///   only at aligned eight-byte blocks of word bytes: prose rarely has one);
/// - expressions that start with a class (no literal for Hyperscan to find first) and whose every
///   match holds a run of at least 32 bytes of one class (``PatternShape/requiredRun``: a quoted
///   high-entropy string) run on windows around the input's runs of that class that long (found by
///   probing one byte in 32: prose has none);
/// - everything else runs on the whole input in the main database.
///
/// Exactness of a window [ws, we) of a group whose matches are at most `M` bytes long: a window is
/// a gate hit widened by `M + 2` on both sides (overlapping windows merged), so every real match
/// holding that hit lies at least two bytes inside it and is seen with its real neighbours (`\b`
/// included): the window reports it with the same leftmost start. A match the window's artificial
/// edges create starts at `ws` or ends at `we` and is dropped; one that starts at `ws` ends by
/// `ws + M`, before any real match in the window ends, so it cannot displace a real match's start.
public final class GatedPatternSet: Sendable {
    /// One gated database and the margin its windows need.
    struct Group: Sendable {
        let database: PatternDatabase
        /// The longest match of any expression in the group (bytes).
        let margin: Int
        /// The fewest digits a match of any expression in the group holds (digit groups; 1 for
        /// the word-run group, whose gate is not digits).
        var minDigits = 1
    }

    private let main: PatternDatabase?
    private let digitGroups: [Group]
    private let wordGroup: Group?
    /// Class-run groups: the class (a 256-byte membership table), the fewest class bytes in a row
    /// every match holds, and the group.
    private let classGroups: [(table: [Bool], minimum: Int, group: Group)]
    /// The fewest bytes a word-run expression matches (its gate: runs of at least this many word
    /// bytes).
    private let wordMinRun: Int

    /// The longest match a digit-gated expression may have (wider ones stay in the main database).
    static let maxGatedWidth = 256
    /// Digit-gated expressions up to this width go to the narrow groups (smaller windows).
    static let narrowWidth = 24
    /// Digit-gated expressions are grouped by their fewest digits: from 1, from 3 and from 5
    /// (identifiers, phone numbers, cards: most need five digits or more).
    static let digitTiers = [1, 3, 5]
    /// The shortest word-run expression worth gating (shorter runs are everywhere in prose).
    static let minWordRun = 16
    /// The shortest class run worth gating (shorter runs of letter classes are everywhere).
    static let minClassRun = 32
    /// The shortest run worth gating of a class without vowels or white space
    /// (``isSparseInProse(_:)``: German document serials).
    static let minSparseClassRun = 8
    /// The longest match a class-run expression may have (its windows are the run ± that).
    static let maxClassRunWidth = 1024
    /// Windows covering more than this share of the input are replaced by one whole-input scan.
    static let wholeScanShare = 0.5

    /// How each expression was placed (for tests and profiling).
    public enum Placement: Sendable, Equatable {
        case main, digitNarrow, digitWide, wordRun, classRun
    }

    /// Where each input expression went, in input order.
    public let placements: [Placement]

    /// Compiles `patterns`; throws ``PatternError`` as ``PatternDatabase`` does.
    public init(_ patterns: [PatternSpec]) throws(PatternError) {
        guard !patterns.isEmpty else { throw PatternError(expressionIndex: -1, message: "no patterns") }
        var placements: [Placement] = []
        var mainSpecs: [PatternSpec] = [], word: [PatternSpec] = []
        // Digit groups by (width class, tier): their expressions, longest match and fewest digits.
        var digit: [Int: (specs: [PatternSpec], margin: Int, minDigits: Int)] = [:]
        var wordMax = 0, wordMin = Int.max
        // Class-run groups by (class table, minimum), in first-seen order: expressions, longest match.
        var runGroups: [(table: [Bool], minimum: Int, specs: [PatternSpec], margin: Int)] = []
        for spec in patterns {
            let shape = PatternShape(spec.expression)
            let widths = PatternDatabase.widths(spec)
            if shape.requiresDigit, let widths, widths.max <= Self.maxGatedWidth {
                let width = widths.max <= Self.narrowWidth ? 0 : 1
                let tier = Self.digitTiers.lastIndex { $0 <= shape.minDigits } ?? 0
                let key = width * Self.digitTiers.count + tier
                var group = digit[key] ?? ([], 0, Int.max)
                group.specs.append(spec)
                group.margin = max(group.margin, widths.max)
                group.minDigits = min(group.minDigits, shape.minDigits)
                digit[key] = group
                placements.append(width == 0 ? .digitNarrow : .digitWide)
            } else if shape.wordBytesOnly, let widths, widths.min >= Self.minWordRun, widths.max <= Self.maxGatedWidth {
                word.append(spec)
                wordMax = max(wordMax, widths.max)
                wordMin = min(wordMin, widths.min)
                placements.append(.wordRun)
            } else if shape.startsWithClass, let run = shape.requiredRun, case let table = Self.classTable(run, spec),
                      run.minimum >= (Self.isSparseInProse(table) ? Self.minSparseClassRun : Self.minClassRun), let widths,
                      widths.max <= Self.maxClassRunWidth {
                let key = runGroups.firstIndex { $0.table == table && $0.minimum == run.minimum } ?? {
                    runGroups.append((table, run.minimum, [], 0))
                    return runGroups.count - 1
                }()
                runGroups[key].specs.append(spec)
                runGroups[key].margin = max(runGroups[key].margin, widths.max)
                placements.append(.classRun)
            } else {
                mainSpecs.append(spec)
                placements.append(.main)
            }
        }
        self.placements = placements
        // Every word-run match lies in a run of at least wordMin word bytes.
        wordMinRun = word.isEmpty ? Int.max : wordMin
        main = mainSpecs.isEmpty ? nil : try PatternDatabase(mainSpecs)
        var groups: [Group] = []
        for key in digit.keys.sorted() {
            guard let group = digit[key] else { continue }
            groups.append(Group(database: try PatternDatabase(group.specs), margin: group.margin, minDigits: group.minDigits))
        }
        digitGroups = groups
        wordGroup = word.isEmpty ? nil : Group(database: try PatternDatabase(word), margin: wordMax)
        var classGroups: [(table: [Bool], minimum: Int, group: Group)] = []
        for entry in runGroups {
            classGroups.append((entry.table, entry.minimum, Group(database: try PatternDatabase(entry.specs), margin: entry.margin)))
        }
        self.classGroups = classGroups
    }

    /// The membership table of a required run's class (a caseless expression's class also holds
    /// the other case of its ASCII letters).
    static func classTable(_ run: (members: [UInt8], minimum: Int), _ spec: PatternSpec) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        let caseless = spec.flags & UInt32(HS_FLAG_CASELESS) != 0
        for member in run.members {
            table[Int(member)] = true
            if caseless, (member | 0x20) &- 0x61 < 26 { table[Int(member ^ 0x20)] = true }
        }
        return table
    }

    /// Whether a class holds no vowel (`aeiou` in either case) and no white space: prose has a
    /// vowel every few letters, so runs of such a class are short there (runs of eight are rare,
    /// where runs of 32 bytes of a class with vowels are what the ordinary gate needs).
    static func isSparseInProse(_ table: [Bool]) -> Bool {
        !Array("aeiouAEIOU \t\n\r\u{0B}\u{0C}".utf8).contains { table[Int($0)] }
    }

    /// Scans `bytes`, calling `onMatch(id, from, to)` for every match, as
    /// ``PatternDatabase/scan(_:_:)`` over all expressions would (the order differs). Return
    /// `false` to stop.
    public func scan(_ bytes: UnsafeRawBufferPointer, _ onMatch: (UInt32, Int, Int) -> Bool) throws(PatternError) {
        guard bytes.count > 0 else { return }
        var stopped = false
        if let main {
            try main.scan(bytes) { id, from, to in
                if !onMatch(id, from, to) { stopped = true; return false }
                return true
            }
        }
        if stopped { return }
        if !digitGroups.isEmpty {
            let runs = Self.digitRuns(bytes)
            for group in digitGroups where !runs.isEmpty {
                let hits = Self.runs(runs, holding: group.minDigits, within: group.margin)
                guard !hits.isEmpty else { continue }
                try scan(group, bytes, hits: hits, stopped: &stopped, onMatch)
                if stopped { return }
            }
        }
        if let wordGroup {
            let hits = Self.wordRunEnds(bytes, minimum: wordMinRun)
            if !hits.isEmpty { try scan(wordGroup, bytes, hits: hits, stopped: &stopped, onMatch) }
            if stopped { return }
        }
        for entry in classGroups {
            let hits = Self.classRuns(bytes, table: entry.table, minimum: entry.minimum)
            guard !hits.isEmpty else { continue }
            try scan(entry.group, bytes, hits: hits, stopped: &stopped, onMatch)
            if stopped { return }
        }
    }

    /// ``scan(_:_:)`` into `matches` (``PackedMatches``: ids below 256, inputs below 2^24 bytes):
    /// the same matches in the same order, gathered by the Hyperscan callback without a Swift
    /// closure (the scanner's hot path). Stops when `matches` overflows.
    public func collect(_ bytes: UnsafeRawBufferPointer, into matches: inout PackedMatches) throws(PatternError) {
        let n = bytes.count
        guard n > 0 else { return }
        guard n <= PackedMatches.maxInputBytes else { throw PatternError(expressionIndex: -1, message: "input too large") }
        if let main {
            try main.collect(bytes, into: &matches)
            if matches.overflowed { return }
        }
        if !digitGroups.isEmpty {
            let runs = Self.digitRuns(bytes)
            for group in digitGroups where !runs.isEmpty {
                let hits = Self.runs(runs, holding: group.minDigits, within: group.margin)
                guard !hits.isEmpty else { continue }
                try collect(group, bytes, hits: hits, into: &matches)
                if matches.overflowed { return }
            }
        }
        if let wordGroup {
            let hits = Self.wordRunEnds(bytes, minimum: wordMinRun)
            if !hits.isEmpty { try collect(wordGroup, bytes, hits: hits, into: &matches) }
            if matches.overflowed { return }
        }
        for entry in classGroups {
            let hits = Self.classRuns(bytes, table: entry.table, minimum: entry.minimum)
            guard !hits.isEmpty else { continue }
            try collect(entry.group, bytes, hits: hits, into: &matches)
            if matches.overflowed { return }
        }
    }

    /// ``collect(_:into:)`` of `group` on the windows around `hits` (as ``scan(_:_:hits:stopped:_:)``).
    private func collect(_ group: Group, _ bytes: UnsafeRawBufferPointer, hits: [Range<Int>],
                         into matches: inout PackedMatches) throws(PatternError) {
        let n = bytes.count, pad = group.margin + 2
        var list = WindowList(reservingCapacity: hits.count)
        for hit in hits { list.add(max(0, hit.lowerBound - pad), min(n, hit.upperBound + pad)) }
        if Double(list.covered) > Double(n) * Self.wholeScanShare {
            try group.database.collect(bytes, into: &matches)
            return
        }
        for window in list.windows {
            try group.database.collect(bytes, window: window, into: &matches)
            if matches.overflowed { return }
        }
    }

    /// The maximal runs of bytes in `table` at least `minimum` (≥ 1) long, in order. Any such run
    /// covers one of the offsets `minimum − 1`, `2·minimum − 1`, …: only those are probed, and
    /// a probe in the class is widened to its run.
    static func classRuns(_ bytes: UnsafeRawBufferPointer, table: [Bool], minimum: Int) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        let n = bytes.count
        guard minimum >= 1, minimum <= n, table.count == 256 else { return runs }
        table.withUnsafeBufferPointer { member in
            var probe = minimum - 1
            while probe < n {
                guard member[Int(bytes[probe])] else {
                    probe += minimum
                    continue
                }
                var s = probe, e = probe + 1
                while s > 0, member[Int(bytes[s - 1])] { s -= 1 }
                while e < n, member[Int(bytes[e])] { e += 1 }
                if e - s >= minimum { runs.append(s..<e) }
                // The next probe after the run's end (the byte at `e` is not in the class).
                probe += ((e - probe) / minimum + 1) * minimum
            }
        }
        return runs
    }

    /// Whether `byte` is one of `[A-Za-z0-9_]`.
    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10 || byte == 0x5F
    }

    /// For every maximal run `s..<e` of word bytes (`[A-Za-z0-9_]`) at least `minimum` long, in
    /// order, the range `(s + minimum)..<e` of the offsets where a run of `minimum` word bytes
    /// ends (an expression `[A-Za-z0-9_]{minimum}` reports exactly these ends, `s + minimum`
    /// through `e`). Such a run holds a whole aligned block of eight word bytes when `minimum`
    /// is at least 15, so only those blocks are examined (eight bytes at a time), then widened
    /// byte by byte.
    static func wordRunEnds(_ bytes: UnsafeRawBufferPointer, minimum: Int) -> [Range<Int>] {
        var ends: [Range<Int>] = []
        let n = bytes.count
        guard minimum <= n else { return ends }
        guard minimum >= 15 else {
            // No block guarantee: a plain byte scan.
            var i = 0
            while i < n {
                guard isWordByte(bytes[i]) else { i += 1; continue }
                let s = i
                while i < n, isWordByte(bytes[i]) { i += 1 }
                if i - s >= minimum { ends.append((s + minimum)..<i) }
            }
            return ends
        }
        // A block of word bytes has no byte below "0" (0x30: space, punctuation, controls) and no
        // byte at or above 0x80: a SWAR test of both rejects nearly every block of prose, the few
        // left (long words) are checked byte by byte.
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let below: UInt64 = ones &* 0x30
        var block = 0
        while block + 8 <= n {
            let x = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: block, as: UInt64.self))
            // A block of bytes in 0x30..<0x80 passes both tests (no borrow, no high bit), so no
            // block of word bytes is skipped; what passes is checked exactly below.
            guard (x &- below) & ~x & highs == 0, x & highs == 0 else {
                block += 8
                continue
            }
            var allWord = true
            for k in block..<(block + 8) where !isWordByte(bytes[k]) {
                allWord = false
                break
            }
            guard allWord else {
                block += 8
                continue
            }
            var s = block, e = block + 8
            while s > 0, isWordByte(bytes[s - 1]) { s -= 1 }
            while e < n, isWordByte(bytes[e]) { e += 1 }
            if e - s >= minimum { ends.append((s + minimum)..<e) }
            block = (e + 7) & ~7
        }
        return ends
    }

    /// Scans `group` on the windows around `hits` (each widened by the group's margin + 2, merged).
    private func scan(_ group: Group, _ bytes: UnsafeRawBufferPointer, hits: [Range<Int>], stopped: inout Bool,
                      _ onMatch: (UInt32, Int, Int) -> Bool) throws(PatternError) {
        let n = bytes.count, pad = group.margin + 2
        var list = WindowList(reservingCapacity: hits.count)
        for hit in hits { list.add(max(0, hit.lowerBound - pad), min(n, hit.upperBound + pad)) }
        let windows = Double(list.covered) > Double(n) * Self.wholeScanShare ? [0..<n] : list.windows
        for window in windows {
            try scan(group, bytes, window: window, stopped: &stopped, onMatch)
            if stopped { return }
        }
    }

    /// Scans `group` on one window of `bytes`, dropping the matches its artificial edges make.
    private func scan(_ group: Group, _ bytes: UnsafeRawBufferPointer, window: Range<Int>, stopped: inout Bool,
                      _ onMatch: (UInt32, Int, Int) -> Bool) throws(PatternError) {
        let n = bytes.count
        let slice = UnsafeRawBufferPointer(rebasing: bytes[window])
        let ws = window.lowerBound, we = window.upperBound
        let dropStart = ws > 0, dropEnd = we < n
        var halted = false
        try group.database.scan(slice) { id, from, to in
            let start = ws + from, end = ws + to
            // Matches made by the window's artificial edges.
            if dropStart && start == ws { return true }
            if dropEnd && end == we { return true }
            if !onMatch(id, start, end) { halted = true; return false }
            return true
        }
        if halted { stopped = true }
    }

    /// The digit runs (of ``digitRuns(_:)``) from whose first digit `count` digits fit in `span`
    /// bytes: the `count`-th digit counted from the run's start (its own digits first) lies at
    /// most `span - 1` bytes after it. A match of at most `span` bytes holding `count` digits
    /// holds its first digit's run, and that run is kept (from a later digit of a run the
    /// `count`-th digit is never closer). All runs when `count <= 1`.
    static func runs(_ runs: [Range<Int>], holding count: Int, within span: Int) -> [Range<Int>] {
        guard count > 1 else { return runs }
        var kept: [Range<Int>] = []
        // Run `q` holds the `count`-th digit from run `r`'s start; `before` = digits in runs r..<q.
        var q = 0, before = 0
        for r in runs.indices {
            if r > 0 { before -= runs[r - 1].count }
            if q < r { q = r; before = 0 }
            while q < runs.count, before + runs[q].count < count {
                before += runs[q].count
                q += 1
            }
            guard q < runs.count else { break }
            let position = runs[q].lowerBound + (count - 1 - before)
            if position - runs[r].lowerBound <= span - 1 { kept.append(runs[r]) }
        }
        return kept
    }

    /// The runs of ASCII digits in `bytes`, in order (16 bytes at a time where there are none).
    static func digitRuns(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        let n = bytes.count
        var i = 0
        let zero = SIMD16<UInt8>(repeating: 0x30), ten = SIMD16<UInt8>(repeating: 10)
        while i < n {
            while i + 16 <= n {
                let v = bytes.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                if any((v &- zero) .< ten) { break }
                i += 16
            }
            let stop = min(n, i + 16)
            var found = false
            while i < stop {
                if bytes[i] &- 0x30 < 10 { found = true; break }
                i += 1
            }
            guard found else { continue }
            let start = i
            while i < n, bytes[i] &- 0x30 < 10 { i += 1 }
            if runs.isEmpty { runs.reserveCapacity(16) }  // one allocation for most texts
            runs.append(start..<i)
        }
        return runs
    }
}
