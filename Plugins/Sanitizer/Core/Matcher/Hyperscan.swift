import CHyperscan
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What the sanitizer's two Hyperscan users (``PatternDatabase`` for PII and secrets,
/// `HyperscanRuleSet` for the injection rules) share: compiling a block-mode database from many
/// expressions or literals, and the scratch spaces of concurrent scans.
enum Hyperscan {
    /// A database Hyperscan refused: the index of the expression it names (-1 when none) and its
    /// message (or the failing function and status). Callers map it to their own error type.
    struct CompileFailure: Error {
        var expressionIndex: Int
        var message: String
    }

    /// Compiles `expressions` with `hs_compile_multi` (`flags[k]` and `ids[k]` for expression k).
    static func compile(_ expressions: [String], flags: [UInt32], ids: [UInt32]) throws(CompileFailure) -> OpaquePointer {
        var cStrings: [UnsafeMutablePointer<CChar>?] = expressions.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let status = cStrings.withUnsafeMutableBufferPointer { buffer -> hs_error_t in
            guard let first = buffer.baseAddress else { return HS_COMPILER_ERROR }
            return first.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: expressions.count) { base in
                hs_compile_multi(base, flags, ids, UInt32(expressions.count), UInt32(HS_MODE_BLOCK), nil, &db, &compileError)
            }
        }
        guard status == HS_SUCCESS, let db else { throw failure("hs_compile_multi", status, compileError) }
        return db
    }

    /// Compiles byte-string `literals` with Hyperscan's pure-literal compiler (`hs_compile_lit_multi`).
    static func compileLiterals(_ literals: [[UInt8]], flags: [UInt32], ids: [UInt32]) throws(CompileFailure) -> OpaquePointer {
        var buffers: [UnsafeMutablePointer<CChar>?] = literals.map { literal in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, literal.count))
            for (k, byte) in literal.enumerated() { buffer[k] = CChar(bitPattern: byte) }
            return buffer
        }
        defer { for buffer in buffers { buffer?.deallocate() } }
        let lengths = literals.map(\.count)
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let status = buffers.withUnsafeMutableBufferPointer { buffer -> hs_error_t in
            guard let first = buffer.baseAddress else { return HS_COMPILER_ERROR }
            return first.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: literals.count) { base in
                hs_compile_lit_multi(base, flags, ids, lengths, UInt32(literals.count), UInt32(HS_MODE_BLOCK), nil, &db, &compileError)
            }
        }
        guard status == HS_SUCCESS, let db else { throw failure("hs_compile_lit_multi", status, compileError) }
        return db
    }

    /// The failure of a compile; frees `compileError`.
    private static func failure(_ function: String, _ status: hs_error_t,
                                _ compileError: UnsafeMutablePointer<hs_compile_error_t>?) -> CompileFailure {
        var result = CompileFailure(expressionIndex: -1, message: "\(function) failed with status \(status)")
        if let compileError {
            result.expressionIndex = Int(compileError.pointee.expression)
            if let text = compileError.pointee.message { result.message = String(cString: text) }
            hs_free_compile_error(compileError)
        }
        return result
    }
}

/// Scratch spaces for concurrent scans: one prototype, allocated for every database it will scan,
/// clones made on demand and kept in a pool of at most `limit` for the next scans. A scratch is
/// owned by exactly one scan at a time. Owns the prototype and every pooled clone.
final class ScratchPool: @unchecked Sendable {
    /// A scratch as the pool holds it (an `OpaquePointer` is not `Sendable`).
    private struct Entry: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let prototype: OpaquePointer
    private let pool = Mutex<[Entry]>([])
    private let limit: Int

    /// Takes ownership of `prototype` (from `hs_alloc_scratch`).
    init(prototype: OpaquePointer, limit: Int) {
        self.prototype = prototype
        self.limit = limit
    }

    deinit {
        for entry in pool.withLock({ $0 }) { hs_free_scratch(entry.pointer) }
        hs_free_scratch(prototype)
    }

    /// A scratch for one scan; nil when Hyperscan cannot clone one (out of memory).
    func take() -> OpaquePointer? {
        if let pooled = pool.withLock({ $0.popLast() }) { return pooled.pointer }
        var clone: OpaquePointer?
        guard hs_clone_scratch(prototype, &clone) == HS_SUCCESS else { return nil }
        return clone
    }

    /// Gives a scratch from ``take()`` back: pooled, or freed when the pool is full.
    func give(_ scratch: OpaquePointer) {
        let kept = pool.withLock { entries -> Bool in
            guard entries.count < limit else { return false }
            entries.append(Entry(pointer: scratch))
            return true
        }
        if !kept { hs_free_scratch(scratch) }
    }
}
