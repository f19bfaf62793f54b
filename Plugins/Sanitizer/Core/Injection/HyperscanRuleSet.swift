import CHyperscan
import Foundation
import Synchronization

/// The rule patterns compiled once into Hyperscan block-mode databases. Scans report which
/// rules matched (a 64-bit set: at most 64 rules), never where: every pattern is compiled with
/// `HS_FLAG_SINGLEMATCH`, so each rule reports at most once and the work per scan is linear in
/// the input (Hyperscan never backtracks).
///
/// Two stages, with the same result as scanning every rule: a rule's `requires` groups (its
/// required literals, see scripts/derive-rule-anchors.py) form one cheap literal-only *anchor*
/// database; a scan runs it first, then each rule whose groups all occurred in its own small
/// database (stopping at its first match). Rules without anchors share one database that runs
/// on every scan. One database holding all rules costs ~45 µs per KB of English text (merged
/// automata triggered by common words); the anchors skip nearly all of that work.
///
/// Scratch space is per scan: a small pool of `hs_scratch_t` cloned from a prototype (sized for
/// every database), so concurrent scans from any number of threads never share one.
final class HyperscanRuleSet: @unchecked Sendable {
    /// Flags for every rule: case-insensitive, one report per rule, `^`/`$` at line boundaries.
    /// Byte mode (no `HS_FLAG_UTF8`): `\S`, `\s` and negated classes are single-byte classes,
    /// which keeps the automata small and the scan several times faster; rules therefore write
    /// non-ASCII characters only as literals or alternations, never inside `[...]` (the
    /// artifact loader refuses such a class). Unbounded `\S+` runs match the same spans in
    /// both modes, so Python's `re` (ASCII mode) still evaluates the rules identically.
    static let flags = UInt32(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_MULTILINE)
    /// Flags for the anchor groups (alternations of escaped literals).
    static let anchorFlags = UInt32(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH)
    static let maximumRules = 64
    /// Anchor groups over all rules, counting their rot13 images (bits of a 4 × 64-bit set).
    static let maximumAnchorGroups = 256
    static let maximumPooledScratches = 64

    /// The anchor database (group g reports id g), nil when no rule has anchors.
    private let anchors: OpaquePointer?
    /// The rules without anchors (rule i reports id i), nil when every rule has anchors.
    private let always: OpaquePointer?
    /// Per anchored rule: its database and its anchor groups' ids.
    private let anchored: [(rule: Int, database: OpaquePointer, groups: Range<Int>)]
    /// Per anchored rule: the ids of the rot13 images of its anchor groups (same database). A
    /// rule can match the rot13 view of a text only if these all occur in the text itself.
    private let rotatedGroups: [Range<Int>]
    private let prototype: OpaquePointer
    /// A Hyperscan scratch, owned by exactly one scan at a time (or by the pool).
    private struct Scratch: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let pool = Mutex<[Scratch]>([])
    let count: Int

    /// The Hyperscan pattern for one anchor group: the literals as an alternation, every byte
    /// other than an ASCII letter or digit written as `\xHH`.
    static func anchorPattern(_ literals: [String]) -> String {
        literals.map { literal in
            var out = ""
            for byte in literal.utf8 {
                if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    out += "\\x" + String(byte, radix: 16).leftZeroPadded(2)
                }
            }
            return out
        }.joined(separator: "|")
    }

    /// Compiles one database; `names[k]` labels a compile error of `patterns[k]`.
    private static func compile(
        _ patterns: [String], ids: [UInt32], flags: UInt32, names: [String]
    ) throws(InjectionDetectorError) -> OpaquePointer {
        var cStrings: [UnsafeMutablePointer<CChar>?] = patterns.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        let allFlags = [UInt32](repeating: flags, count: patterns.count)
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let status = cStrings.withUnsafeMutableBufferPointer { expressions -> hs_error_t in
            guard let first = expressions.baseAddress else { return HS_COMPILER_ERROR }
            return first.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: patterns.count) { base in
                hs_compile_multi(base, allFlags, ids, UInt32(patterns.count), UInt32(HS_MODE_BLOCK), nil, &db, &compileError)
            }
        }
        guard status == HS_SUCCESS, let db else {
            var rule = "?"
            var message = "hs_compile_multi failed with status \(status)"
            if let compileError {
                let expression = Int(compileError.pointee.expression)
                if expression >= 0 && expression < names.count { rule = names[expression] }
                if let text = compileError.pointee.message { message = String(cString: text) }
                hs_free_compile_error(compileError)
            }
            throw .ruleCompilation(rule: rule, message: message)
        }
        return db
    }

    /// Compiles `patterns` (rule ids are their indices); `requires[i]` are rule i's anchor
    /// groups (empty: the rule always runs). `names` label compile errors.
    init(patterns: [String], requires: [[[String]]], names: [String]) throws(InjectionDetectorError) {
        guard !patterns.isEmpty, patterns.count <= Self.maximumRules, requires.count == patterns.count else {
            throw .malformedArtifact(file: "rules.json", reason: "expected 1 to \(Self.maximumRules) rules, found \(patterns.count)")
        }
        count = patterns.count
        var anchorPatterns: [String] = []
        var anchorNames: [String] = []
        var groupRanges: [Range<Int>] = []
        for (i, groups) in requires.enumerated() {
            let start = anchorPatterns.count
            for group in groups {
                anchorPatterns.append(Self.anchorPattern(group))
                anchorNames.append(names[i] + " (requires)")
            }
            groupRanges.append(start..<anchorPatterns.count)
        }
        // The rot13 image of every group, after all the groups.
        let originalGroups = anchorPatterns.count
        for (i, groups) in requires.enumerated() {
            for group in groups {
                anchorPatterns.append(Self.anchorPattern(group.map(Self.rot13)))
                anchorNames.append(names[i] + " (requires, rot13)")
            }
        }
        guard anchorPatterns.count <= Self.maximumAnchorGroups else {
            throw .malformedArtifact(file: "rules.json", reason: "more than \(Self.maximumAnchorGroups) 'requires' groups")
        }
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
            anchors = anchorPatterns.isEmpty ? nil
                : try add(Self.compile(anchorPatterns, ids: (0..<anchorPatterns.count).map { UInt32($0) }, flags: Self.anchorFlags, names: anchorNames))
            let plain = groupRanges.indices.filter { groupRanges[$0].isEmpty }
            always = plain.isEmpty ? nil
                : try add(Self.compile(plain.map { patterns[$0] }, ids: plain.map { UInt32($0) }, flags: Self.flags, names: plain.map { names[$0] }))
            var anchored: [(rule: Int, database: OpaquePointer, groups: Range<Int>)] = []
            for i in groupRanges.indices where !groupRanges[i].isEmpty {
                let db = try add(Self.compile([patterns[i]], ids: [UInt32(i)], flags: Self.flags, names: [names[i]]))
                anchored.append((i, db, groupRanges[i]))
            }
            self.anchored = anchored
            rotatedGroups = anchored.map { ($0.groups.lowerBound + originalGroups)..<($0.groups.upperBound + originalGroups) }
        } catch {
            release()
            throw error
        }
        guard let scratch else {
            release()
            throw .hyperscan("cannot allocate scratch space")
        }
        prototype = scratch
    }

    deinit {
        pool.withLock { scratches in
            for scratch in scratches { hs_free_scratch(scratch.pointer) }
            scratches.removeAll()
        }
        hs_free_scratch(prototype)
        if let anchors { hs_free_database(anchors) }
        if let always { hs_free_database(always) }
        for entry in anchored { hs_free_database(entry.database) }
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

    private func takeScratch() -> OpaquePointer? {
        if let pooled = pool.withLock({ $0.popLast() }) { return pooled.pointer }
        var clone: OpaquePointer?
        guard hs_clone_scratch(prototype, &clone) == HS_SUCCESS else { return nil }
        return clone
    }

    private func returnScratch(_ scratch: OpaquePointer) {
        let kept = pool.withLock { scratches -> Bool in
            guard scratches.count < Self.maximumPooledScratches else { return false }
            scratches.append(Scratch(pointer: scratch))
            return true
        }
        if !kept { hs_free_scratch(scratch) }
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
        guard !bytes.isEmpty else { return (0, 0) }
        return withScratch(bytes) { data, length, scratch -> (rules: UInt64, rot13Rules: UInt64)? in
            guard let anchored = anchorScan(data, length, scratch),
                  let matched = scanRules(data, length, scratch, candidates: anchored.candidates & ~skipping) else {
                return nil
            }
            return (matched & ~skipping, anchored.rot13Rules)
        }
    }

    /// `body` with `bytes` as C characters and a pooled scratch; nil if there is no scratch.
    private func withScratch<T>(_ bytes: UnsafeBufferPointer<UInt8>,
                                _ body: (UnsafePointer<CChar>, UInt32, OpaquePointer) -> T?) -> T? {
        guard let base = bytes.baseAddress, let scratch = takeScratch() else { return nil }
        defer { returnScratch(scratch) }
        return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { data in
            body(data, UInt32(truncatingIfNeeded: bytes.count), scratch)
        }
    }

    /// The anchor scan: the anchored rules (bit i = rule i) whose `requires` groups all occur in
    /// `data` (the candidates), and the rules that can match its rot13 view (all the rot13
    /// images of their groups occur; every rule when some rule has no anchors). nil if
    /// Hyperscan fails.
    private func anchorScan(_ data: UnsafePointer<CChar>, _ length: UInt32,
                            _ scratch: OpaquePointer) -> (candidates: UInt64, rot13Rules: UInt64)? {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4) { words -> (candidates: UInt64, rot13Rules: UInt64)? in
            // Anchor groups seen, one bit each (at most 256).
            guard let seen = words.baseAddress else { return nil }
            seen.initialize(repeating: 0, count: 4)
            if let anchors {
                let status = hs_scan(anchors, data, length, 0, scratch, { id, _, _, _, context in
                    guard let context, id < 256 else { return 0 }
                    context.assumingMemoryBound(to: UInt64.self)[Int(id >> 6)] |= UInt64(1) << UInt64(id & 63)
                    return 0
                }, seen)
                guard status == HS_SUCCESS else { return nil }
            }
            @inline(__always) func allPresent(_ groups: Range<Int>) -> Bool {
                for g in groups where seen[g >> 6] & (UInt64(1) << UInt64(g & 63)) == 0 { return false }
                return true
            }
            var candidates: UInt64 = 0
            var rot13Rules: UInt64 = anchors == nil || always != nil ? UInt64.max >> (64 - count) : 0
            for (k, entry) in anchored.enumerated() {
                let bit = UInt64(1) << UInt64(entry.rule)
                if allPresent(entry.groups) { candidates |= bit }
                if allPresent(rotatedGroups[k]) { rot13Rules |= bit }
            }
            return (candidates, rot13Rules)
        }
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
        return withScratch(bytes) { data, length, scratch in anchorScan(data, length, scratch)?.candidates }
    }

    /// The rules in `candidates` (and the rules without anchors) that match in
    /// `bytes`, scanning only their databases: no anchor scan. Exact when every rule of
    /// `candidates`' complement is known not to match (its anchors are absent). nil if Hyperscan
    /// fails.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, onlyRules candidates: UInt64) -> UInt64? {
        guard let base = bytes.baseAddress, !bytes.isEmpty, candidates != 0 || always != nil else { return 0 }
        guard let scratch = takeScratch() else { return nil }
        defer { returnScratch(scratch) }
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

extension String {
    fileprivate func leftZeroPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
