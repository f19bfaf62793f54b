import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer's driver (corpus, mutations, -max_total_time, …) on `test`, then exits with its
/// status. `test` gets each input; it returns 0 (crashing is how it reports a finding).
public func runLibFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, test))
}

/// The harness ``fuzzMain(_:)`` hands to libFuzzer (a C callback cannot capture it).
nonisolated(unsafe) private var harness: ((inout FuzzInput) -> Void)?

/// Every fuzz target's entry point: runs `run` once on an empty input, so that the shared state
/// (rule databases, the verified detector, keys) is built before the first timed input, then
/// hands each input libFuzzer makes to `run`.
public func fuzzMain(_ run: @escaping (inout FuzzInput) -> Void) -> Never {
    var warmUp = FuzzInput(bytes: [])
    run(&warmUp)
    harness = run
    runLibFuzzer { data, size in
        var input = FuzzInput(data, size)
        harness?(&input)
        return 0
    }
}

/// A cursor over a fuzz input, in the spirit of libFuzzer's FuzzedDataProvider: small
/// decisions come from the front, the rest of the bytes stay payload.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = size > 0 ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isEmpty: Bool { offset >= bytes.count }

    /// One byte (0 once the input is exhausted).
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Everything not consumed yet.
    public mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[min(offset, bytes.count)...])
    }

    /// The bytes up to (not including) the next `separator`, consuming it; the rest when there is none.
    public mutating func upTo(_ separator: UInt8) -> [UInt8] {
        let start = min(offset, bytes.count)
        if let end = bytes[start...].firstIndex(of: separator) {
            offset = end + 1
            return Array(bytes[start..<end])
        }
        return rest()
    }
}

/// Every `separator`-delimited piece of `bytes`.
public func pieces(_ bytes: [UInt8], separator: UInt8) -> [[UInt8]] {
    bytes.split(separator: separator, omittingEmptySubsequences: false).map(Array.init)
}

/// Bytes as a Swift String the way a protobuf string field or a file read would give them:
/// valid UTF-8 as is, anything else lossily repaired (U+FFFD).
public func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// A broken invariant: crash so that libFuzzer records the input.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant violated: \(message())") }
}
