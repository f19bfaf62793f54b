/// The learned part of the detector: logistic regression over signed, hashed word unigrams,
/// word bigrams, byte n-grams (lengths from config.json; 4 in the shipped model) and a few
/// text-shape tokens of the normalised text. One pass over the bytes, O(1) work per byte.
///
/// Features (identical in scripts/train-injection-model.py, "rampart-hash-v2"; arithmetic mod 2^64):
/// - bytes: the first `maxAnalysedBytes` UTF-8 bytes of the normalised text;
/// - words: maximal runs of bytes in `[0-9A-Za-z]` or `>= 0x80`; `u` = FNV-1a-64 over namespace
///   byte 1 then the word;
/// - unigram value `u * GOLD`; bigram value `((u_prev * GOLD) ^ u) * MIX`;
/// - byte n-grams over `" " + words.joined(" ") + " "`: the n bytes read big-endian as `key`,
///   value `(key ^ salt_n) * GOLD` with `salt_n = (0x100 + n) * 0x0101010101010101`;
/// - shape tokens (``ShapeTokens``): value `FNV-1a-64(namespace 5, token) * GOLD`;
/// - each value `r` adds `sign * w[r >> (64 - bits)]`, sign = −1 when bit 40 of `r` is set;
/// - logit = bias + sum / sqrt(number of values) (bias alone for no values).
struct HashedLinearModel: Sendable {
    static let unigramNamespace: UInt8 = 1
    static let shapeNamespace: UInt8 = 5
    static let gold: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let mix: UInt64 = 0xBF58_476D_1CE4_E5B9
    /// Byte n-gram lengths this runtime computes (the key must fit in 64 bits with its salt).
    static let charLengths: ClosedRange<Int> = 1...7

    let weights: [Float]
    let shift: UInt64
    let bias: Double
    let maxAnalysedBytes: Int
    /// Byte n-gram lengths (within ``charLengths``).
    let charMinimum: Int
    let charMaximum: Int
    let shape: ShapeTokens

    init(weights: [Float], bucketsLog2: Int, bias: Double, maxAnalysedBytes: Int, charMinimum: Int, charMaximum: Int) {
        self.charMinimum = charMinimum
        self.charMaximum = charMaximum
        self.weights = weights
        self.shift = UInt64(64 - bucketsLog2)
        self.bias = bias
        self.maxAnalysedBytes = maxAnalysedBytes
        self.shape = ShapeTokens()
    }

    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
    }

    /// The salt of byte n-grams of length `n`.
    @inline(__always)
    static func salt(_ n: Int) -> UInt64 {
        UInt64(0x100 + n) &* 0x0101_0101_0101_0101
    }

    /// The model's logit for a normalised text, and the number of hashed features it summed.
    func logit(normalized: String) -> (logit: Double, features: Int) {
        var text = normalized
        return text.withUTF8 { utf8 in
            logit(bytes: UnsafeBufferPointer(rebasing: utf8.prefix(maxAnalysedBytes)))
        }
    }

    func logit(bytes: UnsafeBufferPointer<UInt8>) -> (logit: Double, features: Int) {
        var sum = 0.0
        var count = 0
        let shift = self.shift
        weights.withUnsafeBufferPointer { w in
            forEachValue(bytes) { value in
                let weight = Double(w[Int(truncatingIfNeeded: value >> shift)])
                sum += (value >> 40) & 1 == 1 ? -weight : weight
                count += 1
            }
        }
        guard count > 0 else { return (bias, 0) }
        return (bias + sum / Double(count).squareRoot(), count)
    }

    /// Calls `add` with every feature value of `bytes` (see the type's documentation), in one
    /// pass: words, bigrams, byte n-grams as the bytes stream by, the shape tokens at the end.
    @inline(__always)
    func forEachValue(_ bytes: UnsafeBufferPointer<UInt8>, _ add: (UInt64) -> Void) {
        let gold = Self.gold
        // The joined word stream " " + words.joined(" ") + " " is never materialised: `window`
        // holds its last 8 bytes and `streamLength` counts the bytes pushed so far.
        let minimum = charMinimum
        let maximum = charMaximum
        var window: UInt64 = 0x20
        var streamLength = 1
        @inline(__always) func push(_ byte: UInt8) {
            window = (window << 8) | UInt64(byte)
            streamLength += 1
            var n = minimum
            while n <= maximum && n <= streamLength {
                let key = window & ((UInt64(1) << UInt64(8 * n)) - 1)
                add((key ^ Self.salt(n)) &* gold)
                n += 1
            }
        }
        if minimum == 1 { add((0x20 ^ Self.salt(1)) &* gold) }  // the stream's first byte as a 1-gram
        var state = ShapeTokens.State()
        var previous: UInt64 = 0
        var words = 0
        var index = 0
        let n = bytes.count
        while index < n {
            let byte = bytes[index]
            guard Self.isWordByte(byte) else {
                shape.separator(byte, at: index, state: &state)
                index += 1
                continue
            }
            if words > 0 { push(0x20) }
            var u = FNV1a.start(namespace: Self.unigramNamespace)
            while index < n {
                let b = bytes[index]
                guard Self.isWordByte(b) else { break }
                u = FNV1a.step(u, b)
                push(b)
                index += 1
            }
            add(u &* gold)
            if words > 0 { add(((previous &* gold) ^ u) &* Self.mix) }
            shape.word(u, state: &state)
            previous = u
            words += 1
        }
        push(0x20)
        shape.finish(state, bytes: n, words: words, add)
    }
}
