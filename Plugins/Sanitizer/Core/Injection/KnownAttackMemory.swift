import Foundation

/// The detector's memory of known attacks (Rebuff and Vigil compare a prompt with a vector store
/// of known attacks; this is the exact, O(1)-per-word form): a set of word 4-grams that occur in
/// at least two training injections and in no training benign text (`attacks.u64` of the
/// artifact, built by scripts/train-injection-model.py).
///
/// A text's *known-attack fraction* is the share of its word 4-grams that are in the set: 0.6 for
/// a text whose 4-grams are mostly those of a known jailbreak template ("you are going to act as",
/// "none of your responses should inform me"). It is computed in the model's word loop
/// (``HashedModel``) from the words' FNV hashes `u`, so it costs one probe of a ``HashSet64``
/// per word (the keys are well mixed, so their top bits index it). Fingerprints in buckets of
/// four, compared four lanes at a time, measured no faster and are not exact.
///
/// A 4-gram's key, from the hashes `u1 … u4` of four consecutive words (arithmetic mod 2^64):
/// `((((u1 · GOLD) ^ u2) · GOLD ^ u3) · GOLD ^ u4) · MIX`.
struct KnownAttackMemory: Sendable {
    /// Words per key.
    static let ngram = 4
    /// `attacks.u64`'s encoding (config.json `memory.dtype`).
    static let dtype = "uint64-le-sorted"
    /// The most keys an artifact may hold (a 64 MiB table).
    static let maximumEntries = 1 << 22

    private let keys: HashSet64
    /// The number of keys.
    let count: Int

    /// A memory that knows no attack: every fraction is 0.
    static let empty = KnownAttackMemory(keys: [])

    init(keys: [UInt64]) {
        self.keys = HashSet64(keys)
        self.count = keys.count
    }

    /// Decodes `attacks.u64`: little-endian 64-bit keys in strictly increasing order (one
    /// canonical file per set; a duplicate or an unsorted file is refused, not repaired).
    init(file data: Data, name: String, expectedEntries: Int) throws(InjectionDetectorError) {
        func fail(_ reason: String) -> InjectionDetectorError { .malformedArtifact(file: name, reason: reason) }
        guard data.count % 8 == 0 else { throw fail("size \(data.count) is not a multiple of 8") }
        let n = data.count / 8
        guard n == expectedEntries else { throw fail("expected \(expectedEntries) keys, found \(n)") }
        guard n <= Self.maximumEntries else { throw fail("more than \(Self.maximumEntries) keys") }
        var keys = [UInt64]()
        keys.reserveCapacity(n)
        var sorted = true
        data.withUnsafeBytes { raw in
            for i in 0..<n {
                let key = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                if let last = keys.last, key <= last { sorted = false }
                keys.append(key)
            }
        }
        guard sorted else { throw fail("keys are not strictly increasing") }
        self.init(keys: keys)
    }

    /// The key of the 4-gram ending with the word `u`, after `u1`, `u2`, `u3` (oldest first).
    @inline(__always)
    static func key(_ u1: UInt64, _ u2: UInt64, _ u3: UInt64, _ u: UInt64) -> UInt64 {
        let gold = HashedModel.gold
        return ((((u1 &* gold) ^ u2) &* gold ^ u3) &* gold ^ u) &* HashedModel.mix
    }

    @inline(__always)
    func contains(_ key: UInt64) -> Bool {
        keys.contains(key)
    }

    /// The known-attack fraction of a text of `words` words, `hits` of whose 4-grams are known
    /// (0 for a text of fewer than four words).
    static func fraction(hits: Int, words: Int) -> Double {
        words >= ngram ? Double(hits) / Double(words - (ngram - 1)) : 0
    }
}
