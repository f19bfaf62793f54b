/// Turns a stream of token bytes into valid UTF-8, holding back the bytes of a character
/// that is not complete yet.
///
/// Ill-formed input becomes U+FFFD, one per maximal ill-formed subpart (the Unicode
/// recommended practice, which `String(decoding:as:)` follows too), so the concatenated
/// output equals `String(decoding: allBytes, as: UTF8.self)` however the bytes are split.
struct UTF8Assembler {
    private var pending: [UInt8] = []

    init() { pending.reserveCapacity(8) }

    /// Whether bytes of an incomplete character are held back.
    var isHoldingBytes: Bool { !pending.isEmpty }

    /// Appends `bytes` and moves every complete character to `out`.
    mutating func push<Bytes: Sequence>(_ bytes: Bytes, into out: inout [UInt8]) where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
        drain(into: &out, final: false)
    }

    /// Moves everything held back to `out`, replacing an incomplete tail with U+FFFD.
    mutating func flush(into out: inout [UInt8]) {
        drain(into: &out, final: true)
    }

    private enum Scan {
        case complete(Int)
        case incomplete(Int)
        case invalid(Int)
    }

    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    private mutating func drain(into out: inout [UInt8], final: Bool) {
        var index = 0
        while index < pending.count {
            switch Self.scan(pending, index) {
            case .complete(let length):
                out.append(contentsOf: pending[index..<index + length])
                index += length
            case .invalid(let length):
                out.append(contentsOf: Self.replacement)
                index += length
            case .incomplete(let length):
                guard final else {
                    pending.removeFirst(index)
                    return
                }
                out.append(contentsOf: Self.replacement)
                index += length
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Classifies the sequence starting at `start` (Unicode Table 3-7).
    private static func scan(_ bytes: [UInt8], _ start: Int) -> Scan {
        let lead = bytes[start]
        if lead < 0x80 { return .complete(1) }
        let trailing: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: trailing = 1
        case 0xE0: trailing = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: trailing = 2
        case 0xED: trailing = 2; high = 0x9F
        case 0xF0: trailing = 3; low = 0x90
        case 0xF1...0xF3: trailing = 3
        case 0xF4: trailing = 3; high = 0x8F
        default: return .invalid(1)
        }
        for k in 1...trailing {
            guard start + k < bytes.count else { return .incomplete(k) }
            let byte = bytes[start + k]
            let (lo, hi): (UInt8, UInt8) = k == 1 ? (low, high) : (0x80, 0xBF)
            guard byte >= lo, byte <= hi else { return .invalid(k) }
        }
        return .complete(trailing + 1)
    }
}

/// Cuts generated text before the first occurrence of any stop string, and holds back a
/// tail that could still become the start of a stop string, so that no text at or after
/// a stop string is ever released. Matching is on UTF-8 bytes (exact scalar sequences,
/// no Unicode normalisation); since the input is valid UTF-8 and each stop string starts
/// with a lead byte, every cut falls on a character boundary.
struct StopMatcher {
    private let stops: [[UInt8]]
    private let longest: Int
    private var pending: [UInt8] = []

    /// Empty stop strings are ignored.
    init(_ stops: [String]) {
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
        self.longest = self.stops.map(\.count).max() ?? 0
        pending.reserveCapacity(64)
    }

    /// Appends `text` (valid UTF-8) and moves the releasable text to `out`.
    /// - Parameter final: no more text follows, so nothing is held back.
    /// - Returns: true when a stop string was found (`out` then ends right before it).
    mutating func push(_ text: [UInt8], final: Bool, into out: inout [UInt8]) -> Bool {
        if stops.isEmpty {
            out.append(contentsOf: text)
            return false
        }
        pending.append(contentsOf: text)
        if let cut = firstMatch() {
            out.append(contentsOf: pending[0..<cut])
            pending.removeAll(keepingCapacity: true)
            return true
        }
        let hold = final ? 0 : heldTail()
        let release = pending.count - hold
        out.append(contentsOf: pending[0..<release])
        pending.removeFirst(release)
        return false
    }

    private func firstMatch() -> Int? {
        let count = pending.count
        for start in 0..<count {
            for stop in stops where stop.count <= count - start && stop[0] == pending[start] {
                var equal = true
                for k in 1..<stop.count where pending[start + k] != stop[k] {
                    equal = false
                    break
                }
                if equal { return start }
            }
        }
        return nil
    }

    /// Length of the longest tail of `pending` that is a proper prefix of a stop string.
    private func heldTail() -> Int {
        let count = pending.count
        var length = min(longest - 1, count)
        while length > 0 {
            let start = count - length
            for stop in stops where stop.count > length {
                var equal = true
                for k in 0..<length where pending[start + k] != stop[k] {
                    equal = false
                    break
                }
                if equal { return length }
            }
            length -= 1
        }
        return 0
    }
}
