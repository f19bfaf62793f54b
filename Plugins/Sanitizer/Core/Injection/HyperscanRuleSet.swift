import CHyperscan
import Foundation

/// The rule patterns compiled once into Hyperscan block-mode databases. Scans report which
/// rules matched (a 64-bit set: at most 64 rules), never where: every pattern is compiled with
/// `HS_FLAG_SINGLEMATCH`, so each rule reports at most once and the work per scan is linear in
/// the input (Hyperscan never backtracks).
///
/// Two stages, with the same result as scanning every rule: a rule's `requires` groups (its
/// required literals, see scripts/derive-rule-anchors.py) form one cheap literal-only *anchor*
/// database (Hyperscan's pure-literal compiler; groups of one-byte literals are found with
/// `memchr`); a scan runs it first, then each rule whose groups all occurred in its own small
/// database (stopping at its first match). A view derived byte for byte from a scanned text (the
/// leetspeak view) rescans anchors only around the bytes it changed. Rules without anchors share one database that runs
/// on every scan. One database holding all rules costs ~45 µs per KB of English text (merged
/// automata triggered by common words); the anchors skip nearly all of that work.
///
/// Scratch space is per scan: a ``ScratchPool`` of `hs_scratch_t` cloned from a prototype (sized for
/// every database), so concurrent scans from any number of threads never share one.
final class HyperscanRuleSet: @unchecked Sendable {
    /// Flags for every rule: case-insensitive, one report per rule, `^`/`$` at line boundaries.
    /// Byte mode (no `HS_FLAG_UTF8`): `\S`, `\s` and negated classes are single-byte classes,
    /// which keeps the automata small and the scan several times faster; rules therefore write
    /// non-ASCII characters only as literals or alternations, never inside `[...]` (the
    /// artifact loader refuses such a class). Unbounded `\S+` runs match the same spans in
    /// both modes, so Python's `re` (ASCII mode) still evaluates the rules identically.
    static let flags = UInt32(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_MULTILINE)
    /// Flags for the anchor literals.
    static let anchorFlags = UInt32(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH)
    static let maximumRules = 64
    /// Anchor groups over all rules, counting their rot13 images (bits of a 4 × 64-bit set).
    static let maximumAnchorGroups = 256
    static let maximumPooledScratches = 64

    /// The anchor database (group g reports id g): Hyperscan's pure-literal compiler, one
    /// expression per literal; nil when no group needs it.
    private let anchors: OpaquePointer?
    /// Groups made only of one-byte literals (`:`, `[`): found with `memchr` instead, since a
    /// one-byte literal slows the whole literal matcher down (it must confirm nearly every
    /// position). `bytes` holds both cases of a letter (anchors are caseless).
    private let byteGroups: [(group: Int, bytes: [UInt8])]
    /// The longest anchor literal, in bytes (0 without anchors).
    let longestAnchor: Int
    /// The rules without anchors (rule i reports id i), nil when every rule has anchors.
    private let always: OpaquePointer?
    /// Per anchored rule: its database and its anchor groups' ids.
    private let anchored: [(rule: Int, database: OpaquePointer, groups: Range<Int>)]
    /// Per anchored rule: its bit, and its anchor groups and their rot13 images (same database)
    /// as sets: a rule is a candidate when its groups all occur (four word tests), and can match
    /// the rot13 view of a text only if the rot13 images all occur in the text itself.
    private let anchorMasks: [(bit: UInt64, groups: AnchorGroups, rotated: AnchorGroups)]
    /// The anchored rules (bit i = rule i) whose alphabet (``RuleAlphabet``) holds no digit: when
    /// a text's leetspeak view changed only digits, every match of such a rule in the text is
    /// also a match in the view (same bytes, and `\b` unchanged next to a digit turned letter),
    /// so the view's scan alone tells that the rule matched neither (see
    /// ``scanAnchored(_:skipping:deferring:)``).
    let digitFreeRules: UInt64
    private let scratches: ScratchPool
    let count: Int

    /// Compiles literals (byte strings, matched caselessly, one report per id) with Hyperscan's
    /// pure-literal compiler; `ids[k]` is reported for `literals[k]`, `names[k]` labels its
    /// compile error.
    private static func compileLiterals(
        _ literals: [[UInt8]], ids: [UInt32], flags: UInt32, names: [String]
    ) throws(InjectionDetectorError) -> OpaquePointer {
        do throws(Hyperscan.CompileFailure) {
            return try Hyperscan.compileLiterals(literals, flags: [UInt32](repeating: flags, count: literals.count), ids: ids)
        } catch {
            throw compilationError(error, names)
        }
    }

    /// Compiles one database; `names[k]` labels a compile error of `patterns[k]`.
    private static func compile(
        _ patterns: [String], ids: [UInt32], flags: UInt32, names: [String]
    ) throws(InjectionDetectorError) -> OpaquePointer {
        do throws(Hyperscan.CompileFailure) {
            return try Hyperscan.compile(patterns, flags: [UInt32](repeating: flags, count: patterns.count), ids: ids)
        } catch {
            throw compilationError(error, names)
        }
    }

    /// A failed compile as the detector reports it: the rule Hyperscan names (`names[index]`).
    private static func compilationError(_ failure: Hyperscan.CompileFailure, _ names: [String]) -> InjectionDetectorError {
        let index = failure.expressionIndex
        return .ruleCompilation(rule: index >= 0 && index < names.count ? names[index] : "?", message: failure.message)
    }

    /// Compiles `patterns` (rule ids are their indices); `requires[i]` are rule i's anchor
    /// groups (empty: the rule always runs). `names` label compile errors.
    init(patterns: [String], requires: [[[String]]], names: [String]) throws(InjectionDetectorError) {
        guard !patterns.isEmpty, patterns.count <= Self.maximumRules, requires.count == patterns.count else {
            throw .malformedArtifact(file: "rules.json", reason: "expected 1 to \(Self.maximumRules) rules, found \(patterns.count)")
        }
        count = patterns.count
        // Every group as its literals' bytes: the groups in rule order, then their rot13 images.
        var anchorGroups: [[[UInt8]]] = []
        var anchorNames: [String] = []
        var groupRanges: [Range<Int>] = []
        for (i, groups) in requires.enumerated() {
            let start = anchorGroups.count
            for group in groups {
                anchorGroups.append(group.map { Array($0.utf8) })
                anchorNames.append(names[i] + " (requires)")
            }
            groupRanges.append(start..<anchorGroups.count)
        }
        let originalGroups = anchorGroups.count
        for (i, groups) in requires.enumerated() {
            for group in groups {
                anchorGroups.append(group.map { Array(Self.rot13($0).utf8) })
                anchorNames.append(names[i] + " (requires, rot13)")
            }
        }
        guard anchorGroups.count <= Self.maximumAnchorGroups else {
            throw .malformedArtifact(file: "rules.json", reason: "more than \(Self.maximumAnchorGroups) 'requires' groups")
        }
        // A group matches where one of its literals does (caselessly): each literal is one
        // expression reporting the group's id.
        var literals: [[UInt8]] = []
        var literalIDs: [UInt32] = []
        var literalNames: [String] = []
        var byteGroups: [(group: Int, bytes: [UInt8])] = []
        for (g, group) in anchorGroups.enumerated() {
            if !group.isEmpty && group.allSatisfy({ $0.count == 1 }) {
                var bytes: [UInt8] = []
                for literal in group {
                    let b = literal[0]
                    for variant in [b, Self.otherCase(b)] where !bytes.contains(variant) { bytes.append(variant) }
                }
                byteGroups.append((g, bytes))
                continue
            }
            for literal in group {
                literals.append(literal)
                literalIDs.append(UInt32(g))
                literalNames.append(anchorNames[g])
            }
        }
        self.byteGroups = byteGroups
        longestAnchor = anchorGroups.joined().map(\.count).max() ?? 0
        var databases: [OpaquePointer] = []
        var scratch: OpaquePointer?
        func release() {
            for db in databases { hs_free_database(db) }
            if let scratch { hs_free_scratch(scratch) }
        }
        do {
            func add(_ db: OpaquePointer) throws(InjectionDetectorError) -> OpaquePointer {
                databases.append(db)
                guard hs_alloc_scratch(db, &scratch) == HS_SUCCESS else { throw .hyperscan("cannot allocate scratch space") }
                return db
            }
            anchors = literals.isEmpty ? nil
                : try add(Self.compileLiterals(literals, ids: literalIDs, flags: Self.anchorFlags, names: literalNames))
            let plain = groupRanges.indices.filter { groupRanges[$0].isEmpty }
            always = plain.isEmpty ? nil
                : try add(Self.compile(plain.map { patterns[$0] }, ids: plain.map { UInt32($0) }, flags: Self.flags, names: plain.map { names[$0] }))
            var anchored: [(rule: Int, database: OpaquePointer, groups: Range<Int>)] = []
            for i in groupRanges.indices where !groupRanges[i].isEmpty {
                let db = try add(Self.compile([patterns[i]], ids: [UInt32(i)], flags: Self.flags, names: [names[i]]))
                anchored.append((i, db, groupRanges[i]))
            }
            self.anchored = anchored
            var digitFree: UInt64 = 0
            for entry in anchored {
                guard let alphabet = RuleAlphabet(expression: patterns[entry.rule], caseless: true),
                      !(0x30...0x39).contains(where: { alphabet.contains(UInt8($0)) }) else { continue }
                digitFree |= UInt64(1) << UInt64(entry.rule)
            }
            digitFreeRules = digitFree
            let rotated = anchored.map { ($0.groups.lowerBound + originalGroups)..<($0.groups.upperBound + originalGroups) }
            anchorMasks = zip(anchored, rotated).map { entry, rotated in
                (UInt64(1) << UInt64(entry.rule), AnchorGroups(entry.groups), AnchorGroups(rotated))
            }
        } catch {
            release()
            throw error
        }
        guard let scratch else {
            release()
            throw .hyperscan("cannot allocate scratch space")
        }
        scratches = ScratchPool(prototype: scratch, limit: Self.maximumPooledScratches)
    }

    deinit {
        if let anchors { hs_free_database(anchors) }
        if let always { hs_free_database(always) }
        for entry in anchored { hs_free_database(entry.database) }
    }

    /// The other case of an ASCII letter; any other byte itself.
    static func otherCase(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) ? b ^ 0x20 : b
    }

    /// rot13 of the ASCII letters of `literal`.
    static func rot13(_ literal: String) -> String {
        String(decoding: literal.utf8.map { b -> UInt8 in
            switch b {
            case 0x41...0x5A: (b - 0x41 + 13) % 26 + 0x41
            case 0x61...0x7A: (b - 0x61 + 13) % 26 + 0x61
            default: b
            }
        }, as: UTF8.self)
    }

    /// The set of rules (bit i = rule i) that match somewhere in `bytes` (valid UTF-8).
    /// Returns nil only if Hyperscan fails (no scratch memory); callers treat that as an error.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        scanGated(bytes)?.rules
    }

    /// ``scan(_:)``, and whether some rule could match the rot13 view of `bytes` (all the rot13
    /// images of its anchor groups occur in `bytes`). When false, scanning the rot13 view would
    /// find no rule: the rot13 rescan can be skipped with the same result.
    func scanGated(_ bytes: UnsafeBufferPointer<UInt8>) -> (rules: UInt64, rot13Possible: Bool)? {
        guard let result = scan(bytes, skipping: 0) else { return nil }
        return (result.rules, result.rot13Rules != 0)
    }

    /// The rules (bit i = rule i) outside `skipping` that match in `bytes`, and the rules that can
    /// match the rot13 view of `bytes` (all the rot13 images of their anchor groups occur in
    /// `bytes`; every rule when some rule has no anchors). Rules in `skipping` are not run
    /// (their bits are 0): a caller that already knows they matched saves their scans.
    /// Returns nil only if Hyperscan fails (no scratch memory).
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, skipping: UInt64) -> (rules: UInt64, rot13Rules: UInt64)? {
        scanAnchored(bytes, skipping: skipping).map { ($0.rules, $0.rot13Rules) }
    }

    /// ``scan(_:skipping:)``, and the anchor groups that occur in `bytes` (for
    /// ``scan(_:derivedFrom:anchors:skipping:)`` on a view derived from `bytes`).
    func scanAnchored(_ bytes: UnsafeBufferPointer<UInt8>, skipping: UInt64) -> (rules: UInt64, rot13Rules: UInt64, anchors: AnchorGroups)? {
        scanAnchored(bytes, skipping: skipping, deferring: 0).map { ($0.rules, $0.rot13Rules, $0.anchors) }
    }

    /// ``scanAnchored(_:skipping:)`` that does not run the candidate rules in `deferring` either
    /// and returns them (`deferred`: the rules of `deferring` outside `skipping` whose anchor
    /// groups all occur in `bytes`; their bits in `rules` are 0). The caller decides them
    /// otherwise (the detector: on the leetspeak view first, for ``digitFreeRules``).
    func scanAnchored(_ bytes: UnsafeBufferPointer<UInt8>, skipping: UInt64, deferring: UInt64)
        -> (rules: UInt64, rot13Rules: UInt64, anchors: AnchorGroups, deferred: UInt64)? {
        guard !bytes.isEmpty else { return (0, 0, AnchorGroups(), 0) }
        return withScratch(bytes) { data, length, scratch -> (rules: UInt64, rot13Rules: UInt64, anchors: AnchorGroups, deferred: UInt64)? in
            var seen = AnchorGroups()
            guard findAnchors(data, length, scratch, into: &seen) else { return nil }
            let (candidates, rot13Rules) = rules(of: seen)
            let deferred = candidates & deferring & ~skipping
            guard let matched = scanRules(data, length, scratch, candidates: candidates & ~skipping & ~deferred) else { return nil }
            return (matched & ~skipping & ~deferring, rot13Rules, seen, deferred)
        }
    }

    /// ``scan(_:skipping:)`` (its `rules`) for `view`, a view of the same length derived byte for
    /// byte from a text whose anchor groups are `anchors` (the leetspeak view): instead of a
    /// second anchor scan of the whole view, only the windows around the bytes the view changed
    /// are scanned for anchors (an anchor occurrence of the view that overlaps no changed byte
    /// also occurs in the text, see ``ChangedWindows``), and their groups are added to the
    /// text's. That set may hold more groups than the view has (an occurrence of the text that
    /// the view changed): more rules may run, and a rule whose anchors are absent cannot match
    /// (anchors are required literals), so the result is the full scan's. Falls back to the full
    /// scan when the windows would cover half of the view. nil if Hyperscan fails.
    func scan(_ view: UnsafeBufferPointer<UInt8>, derivedFrom text: UnsafeBufferPointer<UInt8>, anchors: AnchorGroups,
              skipping: UInt64) -> UInt64? {
        guard longestAnchor > 0, let windows = ChangedWindows.windows(view, text, reach: longestAnchor - 1) else {
            return scan(view, skipping: skipping)?.rules
        }
        guard !view.isEmpty else { return 0 }
        return withScratch(view) { data, length, scratch -> UInt64? in
            var seen = anchors
            for window in windows {
                guard findAnchors(data + window.lowerBound, UInt32(truncatingIfNeeded: window.count), scratch, into: &seen) else { return nil }
            }
            guard let matched = scanRules(data, length, scratch, candidates: rules(of: seen).candidates & ~skipping) else { return nil }
            return matched & ~skipping
        }
    }

    /// `body` with `bytes` as C characters and a pooled scratch; nil if there is no scratch.
    private func withScratch<T>(_ bytes: UnsafeBufferPointer<UInt8>,
                                _ body: (UnsafePointer<CChar>, UInt32, OpaquePointer) -> T?) -> T? {
        guard let base = bytes.baseAddress, let scratch = scratches.take() else { return nil }
        defer { scratches.give(scratch) }
        return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { data in
            body(data, UInt32(truncatingIfNeeded: bytes.count), scratch)
        }
    }

    /// Adds the anchor groups that occur in `data` to `seen`; false if Hyperscan fails.
    private func findAnchors(_ data: UnsafePointer<CChar>, _ length: UInt32, _ scratch: OpaquePointer,
                             into seen: inout AnchorGroups) -> Bool {
        if let anchors {
            let status = seen.withWords { words in
                hs_scan(anchors, data, length, 0, scratch, { id, _, _, _, context in
                    guard let context, id < 256 else { return 0 }
                    context.assumingMemoryBound(to: UInt64.self)[Int(id >> 6)] |= UInt64(1) << UInt64(id & 63)
                    return 0
                }, words)
            }
            guard status == HS_SUCCESS else { return false }
        }
        for entry in byteGroups where !seen.contains(entry.group) {
            for byte in entry.bytes where memchr(data, Int32(byte), Int(length)) != nil {
                seen.insert(entry.group)
                break
            }
        }
        return true
    }

    /// The anchored rules (bit i = rule i) whose `requires` groups all occur in `seen` (the
    /// candidates), and the rules that can match the rot13 view (all the rot13 images of their
    /// groups occur; every rule when some rule has no anchors).
    private func rules(of seen: AnchorGroups) -> (candidates: UInt64, rot13Rules: UInt64) {
        var candidates: UInt64 = 0
        var rot13Rules: UInt64 = anchored.isEmpty || always != nil ? UInt64.max >> (64 - count) : 0
        for mask in anchorMasks {
            if mask.groups.isSubset(of: seen) { candidates |= mask.bit }
            if mask.rotated.isSubset(of: seen) { rot13Rules |= mask.bit }
        }
        return (candidates, rot13Rules)
    }

    /// The rules (bit i = rule i) that have `requires` groups (the others run on every text).
    var anchoredRules: UInt64 {
        anchored.reduce(0) { $0 | UInt64(1) << UInt64($1.rule) }
    }

    /// The anchored rules (bit i = rule i) whose `requires` groups all occur in `bytes`: the rules
    /// whose databases a scan of `bytes` runs. Runs only the anchor database (no rule). nil if
    /// Hyperscan fails.
    func candidates(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !bytes.isEmpty else { return 0 }
        return withScratch(bytes) { data, length, scratch -> UInt64? in
            var seen = AnchorGroups()
            guard findAnchors(data, length, scratch, into: &seen) else { return nil }
            return rules(of: seen).candidates
        }
    }

    /// The rules in `candidates` (and the rules without anchors) that match in
    /// `bytes`, scanning only their databases: no anchor scan. Exact when every rule of
    /// `candidates`' complement is known not to match (its anchors are absent). nil if Hyperscan
    /// fails.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, onlyRules candidates: UInt64) -> UInt64? {
        guard let base = bytes.baseAddress, !bytes.isEmpty, candidates != 0 || always != nil else { return 0 }
        guard let scratch = scratches.take() else { return nil }
        defer { scratches.give(scratch) }
        return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { data in
            scanRules(data, UInt32(truncatingIfNeeded: bytes.count), scratch, candidates: candidates)
        }
    }

    private func scanRules(
        _ data: UnsafePointer<CChar>, _ length: UInt32, _ scratch: OpaquePointer, candidates: UInt64
    ) -> UInt64? {
        var matched: UInt64 = 0
        if let always {
            let status = hs_scan(always, data, length, 0, scratch, { id, _, _, _, context in
                guard let context, id < 64 else { return 0 }
                context.assumingMemoryBound(to: UInt64.self).pointee |= UInt64(1) << UInt64(id)
                return 0
            }, &matched)
            guard status == HS_SUCCESS else { return nil }
        }
        guard candidates != 0 else { return matched }
        for entry in anchored where candidates & (UInt64(1) << UInt64(entry.rule)) != 0 {
            // One rule per database: stop at its first match.
            let status = hs_scan(entry.database, data, length, 0, scratch, { id, _, _, _, context in
                guard let context, id < 64 else { return 1 }
                context.assumingMemoryBound(to: UInt64.self).pointee |= UInt64(1) << UInt64(id)
                return 1
            }, &matched)
            guard status == HS_SUCCESS || status == HS_SCAN_TERMINATED else { return nil }
        }
        return matched
    }

    /// Scans a string's UTF-8 (in chunks of at most 2^31 bytes, far beyond any prompt limit).
    func scan(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { utf8 in
            var result: UInt64 = 0
            var offset = 0
            let chunk = 1 << 31
            repeat {
                let end = min(utf8.count, offset + chunk)
                guard let bits = scan(UnsafeBufferPointer(rebasing: utf8[offset..<end])) else { return nil }
                result |= bits
                offset = end
            } while offset < utf8.count
            return result
        }
    }
}
