import CHyperscan
#if canImport(Glibc)
import Glibc
#endif

/// One expression of a ``PatternDatabase``.
public struct PatternSpec: Sendable, Hashable {
    /// The Hyperscan (PCRE-subset) expression.
    public var expression: String
    /// The id reported with each match.
    public var id: UInt32
    /// `HS_FLAG_*` bits.
    public var flags: UInt32

    public init(_ expression: String, id: UInt32, caseless: Bool = false, leftmostStart: Bool = true,
                singleMatch: Bool = false, dotAll: Bool = false) {
        self.expression = expression
        self.id = id
        var flags: UInt32 = 0
        if caseless { flags |= UInt32(HS_FLAG_CASELESS) }
        if leftmostStart { flags |= UInt32(HS_FLAG_SOM_LEFTMOST) }
        if singleMatch { flags |= UInt32(HS_FLAG_SINGLEMATCH) }
        if dotAll { flags |= UInt32(HS_FLAG_DOTALL) }
        self.flags = flags
    }
}

/// Why a pattern set could not be compiled or scanned.
public struct PatternError: Error, Sendable, CustomStringConvertible {
    /// The index of the failing expression (-1 when the error is not about one expression).
    public var expressionIndex: Int
    public var message: String
    public var description: String {
        expressionIndex >= 0 ? "pattern \(expressionIndex): \(message)" : message
    }
}

/// A compiled Hyperscan block-mode database: every expression is matched in one linear pass over
/// the input, with no backtracking, so regex bombs cannot happen (time is linear in the input).
///
/// Thread-safe: scans take a scratch space from a small pool (``ScratchPool``, one per concurrent
/// scan).
public final class PatternDatabase: @unchecked Sendable {
    private let database: OpaquePointer
    private let scratches: ScratchPool

    /// Compiles `patterns`; throws ``PatternError`` naming the first expression Hyperscan refuses.
    public init(_ patterns: [PatternSpec]) throws(PatternError) {
        guard !patterns.isEmpty else { throw PatternError(expressionIndex: -1, message: "no patterns") }
        let db: OpaquePointer
        do throws(Hyperscan.CompileFailure) {
            db = try Hyperscan.compile(patterns.map(\.expression), flags: patterns.map(\.flags), ids: patterns.map(\.id))
        } catch {
            throw PatternError(expressionIndex: error.expressionIndex, message: error.message)
        }
        var scratch: OpaquePointer?
        guard hs_alloc_scratch(db, &scratch) == HS_SUCCESS, let scratch else {
            hs_free_database(db)
            throw PatternError(expressionIndex: -1, message: "hs_alloc_scratch failed")
        }
        database = db
        scratches = ScratchPool(prototype: scratch, limit: 64)
    }

    deinit {
        hs_free_database(database)
    }

    /// Scans `bytes`, calling `onMatch(id, from, to)` for every match (byte offsets; `from` is the
    /// leftmost start when the expression was compiled with it, else 0). Return `false` to stop.
    public func scan(_ bytes: UnsafeRawBufferPointer, _ onMatch: (UInt32, Int, Int) -> Bool) throws(PatternError) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        guard bytes.count <= Int(UInt32.max) else { throw PatternError(expressionIndex: -1, message: "input too large") }
        let scratch = try takeScratch()
        defer { scratches.give(scratch) }
        // The handler is passed to the callback by the address of a local copy (no box object
        // allocated per scan).
        let status: hs_error_t = withoutActuallyEscaping(onMatch) { escapable in
            var handler = escapable
            return withUnsafeMutablePointer(to: &handler) { pointer in
                hs_scan(database, base.assumingMemoryBound(to: CChar.self), UInt32(bytes.count), 0, scratch, { id, from, to, _, context in
                    guard let context else { return 1 }
                    let handler = context.assumingMemoryBound(to: Handler.self)
                    return handler.pointee(id, Int(from), Int(to)) ? 0 : 1
                }, UnsafeMutableRawPointer(pointer))
            }
        }
        guard status == HS_SUCCESS || status == HS_SCAN_TERMINATED else {
            throw PatternError(expressionIndex: -1, message: "hs_scan failed (\(status))")
        }
    }

    /// Scans `window` of `bytes` (all of it when nil), adding every match to `matches` with its
    /// offsets in `bytes` (``PackedMatches``); a match that the window's artificial edges make
    /// (starting at its first byte when that is not the input's first, or ending at its end when
    /// that is not the input's end) is dropped, as ``GatedPatternSet`` drops them. Stops when
    /// `matches` overflows. No Swift closure is involved: the callback writes to `matches`.
    public func collect(_ bytes: UnsafeRawBufferPointer, window: Range<Int>? = nil, into matches: inout PackedMatches) throws(PatternError) {
        let n = bytes.count
        let window = window ?? 0..<n
        guard !window.isEmpty, window.lowerBound >= 0, window.upperBound <= n, let base = bytes.baseAddress else { return }
        guard n <= PackedMatches.maxInputBytes else { throw PatternError(expressionIndex: -1, message: "input too large") }
        let scratch = try takeScratch()
        defer { scratches.give(scratch) }
        matches.offset = window.lowerBound
        matches.dropStart = window.lowerBound > 0 ? window.lowerBound : -1
        matches.dropEnd = window.upperBound < n ? window.upperBound : -1
        let status = withUnsafeMutablePointer(to: &matches) { pointer in
            hs_scan(database, (base + window.lowerBound).assumingMemoryBound(to: CChar.self), UInt32(window.count), 0, scratch,
                    { id, from, to, _, context in
                        guard let context else { return 1 }
                        let matches = context.assumingMemoryBound(to: PackedMatches.self)
                        return matches.pointee.add(id: id, from: Int(from), to: Int(to)) ? 0 : 1
                    }, UnsafeMutableRawPointer(pointer))
        }
        guard status == HS_SUCCESS || status == HS_SCAN_TERMINATED else {
            throw PatternError(expressionIndex: -1, message: "hs_scan failed (\(status))")
        }
    }

    /// Scans the UTF-8 bytes of `text`.
    public func scan(_ text: String, _ onMatch: (UInt32, Int, Int) -> Bool) throws(PatternError) {
        var copy = text
        let result: Result<Void, PatternError> = copy.withUTF8 { buffer in
            do throws(PatternError) {
                try scan(UnsafeRawBufferPointer(buffer), onMatch)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Whether any expression matches `text` (stops at the first match).
    public func matches(_ text: String) throws(PatternError) -> Bool {
        var found = false
        try scan(text) { _, _, _ in
            found = true
            return false
        }
        return found
    }

    /// The shortest and longest match of `spec` in bytes (nil when Hyperscan cannot analyse it;
    /// `max` is `Int(UInt32.max)` when matches are unbounded).
    public static func widths(_ spec: PatternSpec) -> (min: Int, max: Int)? {
        var info: UnsafeMutablePointer<hs_expr_info_t>?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = hs_expression_info(spec.expression, spec.flags, &info, &error)
        if let error { hs_free_compile_error(error) }
        guard status == HS_SUCCESS, let info else { return nil }
        defer { free(info) }
        return (Int(info.pointee.min_width), Int(info.pointee.max_width))
    }

    private func takeScratch() throws(PatternError) -> OpaquePointer {
        guard let scratch = scratches.take() else { throw PatternError(expressionIndex: -1, message: "hs_clone_scratch failed") }
        return scratch
    }
}

/// A match handler as ``PatternDatabase/scan(_:_:)`` passes it to Hyperscan's callback.
private typealias Handler = (UInt32, Int, Int) -> Bool
