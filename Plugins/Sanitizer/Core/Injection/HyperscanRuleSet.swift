import CHyperscan
import Foundation
import Synchronization

/// The rule patterns compiled once into one Hyperscan block-mode database. Scans report which
/// rules matched (a 64-bit set: at most 64 rules), never where: every pattern is compiled with
/// `HS_FLAG_SINGLEMATCH`, so each rule reports at most once and the work per scan is linear in
/// the input (Hyperscan never backtracks).
///
/// Scratch space is per scan: a small pool of `hs_scratch_t` cloned from a prototype, so
/// concurrent scans from any number of threads never share one.
final class HyperscanRuleSet: @unchecked Sendable {
    /// Flags for every rule: case-insensitive, one report per rule, `^`/`$` at line boundaries.
    /// Byte mode (no `HS_FLAG_UTF8`): `\S`, `\s` and negated classes are single-byte classes,
    /// which keeps the automata small and the scan several times faster; rules therefore write
    /// non-ASCII characters only as literals or alternations, never inside `[...]` (the
    /// artifact loader refuses such a class). Unbounded `\S+` runs match the same spans in
    /// both modes, so Python's `re` (ASCII mode) still evaluates the rules identically.
    static let flags = UInt32(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_MULTILINE)
    static let maximumRules = 64
    static let maximumPooledScratches = 64

    private let database: OpaquePointer
    private let prototype: OpaquePointer
    /// A Hyperscan scratch, owned by exactly one scan at a time (or by the pool).
    private struct Scratch: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let pool = Mutex<[Scratch]>([])
    let count: Int

    /// Compiles `patterns` (rule ids are their indices). `names` label compile errors.
    init(patterns: [String], names: [String]) throws(InjectionDetectorError) {
        guard !patterns.isEmpty, patterns.count <= Self.maximumRules else {
            throw .malformedArtifact(file: "rules.json", reason: "expected 1 to \(Self.maximumRules) rules, found \(patterns.count)")
        }
        count = patterns.count
        var cStrings: [UnsafeMutablePointer<CChar>?] = patterns.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        let flags = [UInt32](repeating: Self.flags, count: patterns.count)
        let ids = (0..<patterns.count).map { UInt32($0) }
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let status = cStrings.withUnsafeMutableBufferPointer { expressions -> hs_error_t in
            guard let first = expressions.baseAddress else { return HS_COMPILER_ERROR }
            return first.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: patterns.count) { base in
                hs_compile_multi(base, flags, ids, UInt32(patterns.count), UInt32(HS_MODE_BLOCK), nil, &db, &compileError)
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
        var scratch: OpaquePointer?
        guard hs_alloc_scratch(db, &scratch) == HS_SUCCESS, let scratch else {
            hs_free_database(db)
            throw .hyperscan("cannot allocate scratch space")
        }
        database = db
        prototype = scratch
    }

    deinit {
        pool.withLock { scratches in
            for scratch in scratches { hs_free_scratch(scratch.pointer) }
            scratches.removeAll()
        }
        hs_free_scratch(prototype)
        hs_free_database(database)
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
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        guard let scratch = takeScratch() else { return nil }
        defer { returnScratch(scratch) }
        var matched: UInt64 = 0
        let status = withUnsafeMutablePointer(to: &matched) { context in
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { data in
                hs_scan(database, data, UInt32(truncatingIfNeeded: bytes.count), 0, scratch, { id, _, _, _, context in
                    guard let context, id < 64 else { return 0 }
                    context.assumingMemoryBound(to: UInt64.self).pointee |= UInt64(1) << UInt64(id)
                    return 0
                }, context)
            }
        }
        return status == HS_SUCCESS ? matched : nil
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
