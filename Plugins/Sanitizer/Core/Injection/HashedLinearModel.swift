/// The learned part of the detector: logistic regression over signed, hashed word unigrams,
/// word bigrams and byte n-grams (lengths from config.json; 4 in the shipped model) of the
/// normalised text.
///
/// Features (identical in scripts/train-injection-model.py):
/// - bytes: the first `maxAnalysedBytes` UTF-8 bytes of the normalised text;
/// - words: maximal runs of bytes in `[0-9A-Za-z]` or `>= 0x80`;
/// - unigram: FNV-1a-64 over namespace byte 1 then the word;
/// - bigram: FNV-1a-64 over namespace byte 2, word, 0x20, next word;
/// - char n-grams: over `" " + words.joined(" ") + " "`, every window of min...max bytes hashed
///   as namespace byte 3 then the window;
/// - each hash `h` adds `sign * w[h mod 2^bits]`, sign = −1 when bit 63 of `h` is set;
/// - logit = bias + sum / sqrt(number of hashes) (bias alone for no hashes).
struct HashedLinearModel: Sendable {
    static let unigramNamespace: UInt8 = 1
    static let bigramNamespace: UInt8 = 2
    static let charNamespace: UInt8 = 3

    let weights: [Float]
    let mask: UInt64
    let bias: Double
    let maxAnalysedBytes: Int
    /// Byte n-gram lengths (1 ≤ min ≤ max ≤ 8).
    let charMinimum: Int
    let charMaximum: Int

    init(weights: [Float], bucketsLog2: Int, bias: Double, maxAnalysedBytes: Int, charMinimum: Int, charMaximum: Int) {
        self.charMinimum = charMinimum
        self.charMaximum = charMaximum
        self.weights = weights
        self.mask = (UInt64(1) << UInt64(bucketsLog2)) - 1
        self.bias = bias
        self.maxAnalysedBytes = maxAnalysedBytes
    }

    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
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
        let mask = self.mask
        weights.withUnsafeBufferPointer { w in
            @inline(__always) func add(_ hash: UInt64) {
                let value = Double(w[Int(truncatingIfNeeded: hash & mask)])
                sum += (hash >> 63) == 1 ? -value : value
                count += 1
            }
            // The joined word stream for the character n-grams: " " + words.joined(" ") + " ".
            var chars = [UInt8]()
            chars.reserveCapacity(bytes.count + 2)
            chars.append(0x20)
            var previousStart = -1
            var previousEnd = -1
            var index = 0
            let n = bytes.count
            while index < n {
                guard Self.isWordByte(bytes[index]) else {
                    index += 1
                    continue
                }
                let start = index
                while index < n && Self.isWordByte(bytes[index]) { index += 1 }
                let end = index
                var unigram = FNV1a.start(namespace: Self.unigramNamespace)
                for k in start..<end { unigram = FNV1a.step(unigram, bytes[k]) }
                add(unigram)
                if previousStart >= 0 {
                    var bigram = FNV1a.start(namespace: Self.bigramNamespace)
                    for k in previousStart..<previousEnd { bigram = FNV1a.step(bigram, bytes[k]) }
                    bigram = FNV1a.step(bigram, 0x20)
                    for k in start..<end { bigram = FNV1a.step(bigram, bytes[k]) }
                    add(bigram)
                    chars.append(0x20)
                }
                chars.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                previousStart = start
                previousEnd = end
            }
            chars.append(0x20)
            let base = FNV1a.start(namespace: Self.charNamespace)
            let minimum = charMinimum
            let maximum = charMaximum
            chars.withUnsafeBufferPointer { c in
                let m = c.count
                guard m >= minimum else { return }
                for i in 0...(m - minimum) {
                    var hash = base
                    let longest = min(maximum, m - i)
                    for k in 0..<longest {
                        hash = FNV1a.step(hash, c[i + k])
                        if k + 1 >= minimum { add(hash) }
                    }
                }
            }
        }
        guard count > 0 else { return (bias, 0) }
        return (bias + sum / Double(count).squareRoot(), count)
    }
}
