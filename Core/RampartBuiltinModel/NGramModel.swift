import Foundation

/// An interpolated (modified) Kneser–Ney n-gram model stored as a reversed-context trie.
///
/// `p(w | h) = alpha(h, w) + gamma(h) * p(w | h')`, where `h'` is `h` without its oldest
/// token, down to the stored unigram distribution (which already includes the uniform
/// floor). A depth-`d` node is a context of `d` tokens; only contexts seen in training
/// (after pruning) are stored, and a missing context backs off to the longest stored
/// suffix. `gamma(h) = 1 - sum(alpha(h, ·))`, so every distribution sums to one.
///
/// The file layout (`weights.bin`, little-endian, no padding) is documented in
/// `docs/BUILTIN_MODEL.md` and in `scripts/build-builtin-model.py`.
struct NGramModel: Sendable {
    struct Level: Sendable {
        /// Token that extends the parent context to the left; ascending among siblings.
        var nodeTokens: [UInt16]
        /// Entries of node `i` are `entryStart[i] ..< entryStart[i + 1]`.
        var entryStart: [Int32]
        /// Children of node `i` (at the next depth) are `childStart[i] ..< childStart[i + 1]`.
        var childStart: [Int32]
        /// Backoff weight of each node.
        var gammas: [Float]
        var entryTokens: [UInt16]
        var entryWeights: [Float]
    }

    static let magic = Array("RMPTKNLM".utf8)
    static let formatVersion: UInt32 = 1

    let order: Int
    let vocabularySize: Int
    let unigram: [Float]
    let levels: [Level]

    var nodeCount: Int { levels.reduce(0) { $0 + $1.nodeTokens.count } }
    var entryCount: Int { levels.reduce(0) { $0 + $1.entryTokens.count } }

    /// Parses and validates `weights.bin`.
    /// - Parameters:
    ///   - expectedOrder, expectedVocabularySize: from `config.json`; must match the header.
    ///   - neverGenerated: token ids that must have probability zero (the role markers).
    static func parse(
        _ bytes: [UInt8], fileName: String, expectedOrder: Int, expectedVocabularySize: Int,
        neverGenerated: ClosedRange<Int>
    ) throws -> NGramModel {
        var reader = WeightsReader(bytes: bytes, file: fileName)
        func fail(_ message: String) -> BuiltinModelError { .invalidWeights("\(fileName): \(message)") }

        let magicAt = try reader.take("magic", count: 8, width: 1)
        guard Array(bytes[magicAt..<magicAt + 8]) == magic else { throw fail("bad magic (expected \"RMPTKNLM\")") }
        let fieldsAt = try reader.take("header", count: 5, width: 4)
        let version = reader.u32(fieldsAt)
        let order = Int(reader.u32(fieldsAt + 4))
        let vocabularySize = Int(reader.u32(fieldsAt + 8))
        let scale = reader.u32(fieldsAt + 12)
        guard version == formatVersion else { throw fail("format version \(version), this build reads \(formatVersion)") }
        guard order == expectedOrder else { throw fail("order \(order), config.json says \(expectedOrder)") }
        guard vocabularySize == expectedVocabularySize else {
            throw fail("vocabulary size \(vocabularySize), config.json says \(expectedVocabularySize)")
        }
        guard scale > 0 else { throw fail("quantisation scale is 0") }
        let depths = order - 1
        let countsAt = try reader.take("header counts", count: 2 * depths, width: 4)
        var nodeCounts: [Int] = []
        var entryCounts: [Int] = []
        for d in 0..<depths {
            nodeCounts.append(Int(reader.u32(countsAt + 4 * d)))
            entryCounts.append(Int(reader.u32(countsAt + 4 * (depths + d))))
        }
        for d in 0..<depths where nodeCounts[d] >= Int(Int32.max) || entryCounts[d] >= Int(Int32.max) {
            throw fail("depth \(d + 1) claims \(nodeCounts[d]) nodes and \(entryCounts[d]) entries")
        }

        let unigramAt = try reader.take("unigram probabilities", count: vocabularySize, width: 4)
        var unigram = [Float](repeating: 0, count: vocabularySize)
        var total = 0.0
        for token in 0..<vocabularySize {
            let p = reader.f32(unigramAt + 4 * token)
            guard p.isFinite, p >= 0, p <= 1 else { throw fail("unigram probability of token \(token) is \(p)") }
            if neverGenerated.contains(token), p != 0 {
                throw fail("unigram probability of reserved token \(token) is \(p), expected 0")
            }
            unigram[token] = p
            total += Double(p)
        }
        guard abs(total - 1) < 1e-3 else { throw fail("unigram probabilities sum to \(total), expected 1") }

        // Locate every section first, so that a truncated file fails before any work.
        struct Sections {
            var tokens: Int
            var entryCounts: Int
            var childCounts: Int
            var entryTokens: Int
            var entryQ: Int
        }
        var sections: [Sections] = []
        for d in 0..<depths {
            let depth = d + 1
            let nodes = nodeCounts[d]
            let entries = entryCounts[d]
            let tokensAt = try reader.take("depth \(depth) node tokens", count: nodes, width: 2)
            let entryCountsAt = try reader.take("depth \(depth) node entry counts", count: nodes, width: 2)
            let childCountsAt = d + 1 < depths ? try reader.take("depth \(depth) node child counts", count: nodes, width: 2) : -1
            let entryTokensAt = try reader.take("depth \(depth) entry tokens", count: entries, width: 2)
            let entryQAt = try reader.take("depth \(depth) entry weights", count: entries, width: 2)
            sections.append(
                Sections(tokens: tokensAt, entryCounts: entryCountsAt, childCounts: childCountsAt, entryTokens: entryTokensAt, entryQ: entryQAt))
        }
        guard reader.offset == bytes.count else {
            throw fail("\(bytes.count - reader.offset) unexpected trailing bytes after offset \(reader.offset)")
        }

        let dequantised = (0...65535).map { Float(exp(-Double($0) / Double(scale))) }
        var levels: [Level] = []
        for d in 0..<depths {
            let depth = d + 1
            let nodes = nodeCounts[d]
            let entries = entryCounts[d]
            let tokensAt = sections[d].tokens
            let entryCountsAt = sections[d].entryCounts
            let childCountsAt = sections[d].childCounts
            let entryTokensAt = sections[d].entryTokens
            let entryQAt = sections[d].entryQ

            var nodeTokens = [UInt16](repeating: 0, count: nodes)
            var entryStart = [Int32](repeating: 0, count: nodes + 1)
            var childStart = [Int32](repeating: 0, count: childCountsAt >= 0 ? nodes + 1 : 0)
            var gammas = [Float](repeating: 1, count: nodes)
            var entryTokens = [UInt16](repeating: 0, count: entries)
            var entryWeights = [Float](repeating: 0, count: entries)
            var entrySum = 0
            var childSum = 0
            for i in 0..<nodes {
                let token = reader.u16(tokensAt + 2 * i)
                guard Int(token) < vocabularySize else {
                    throw fail("depth \(depth) node \(i) has token \(token) >= vocabulary size \(vocabularySize)")
                }
                nodeTokens[i] = token
                entrySum += Int(reader.u16(entryCountsAt + 2 * i))
                guard entrySum <= entries else {
                    throw fail("depth \(depth) node entry counts exceed the \(entries) entries in the header")
                }
                entryStart[i + 1] = Int32(entrySum)
                if childCountsAt >= 0 {
                    childSum += Int(reader.u16(childCountsAt + 2 * i))
                    guard childSum <= nodeCounts[d + 1] else {
                        throw fail("depth \(depth) node child counts exceed the \(nodeCounts[d + 1]) nodes at depth \(depth + 1)")
                    }
                    childStart[i + 1] = Int32(childSum)
                }
            }
            guard entrySum == entries else {
                throw fail("depth \(depth) node entry counts sum to \(entrySum), the header says \(entries)")
            }
            if childCountsAt >= 0, childSum != nodeCounts[d + 1] {
                throw fail("depth \(depth) node child counts sum to \(childSum), depth \(depth + 1) has \(nodeCounts[d + 1]) nodes")
            }
            for i in 0..<nodes {
                var weightSum = 0.0
                var previous = -1
                for e in Int(entryStart[i])..<Int(entryStart[i + 1]) {
                    let token = Int(reader.u16(entryTokensAt + 2 * e))
                    guard token < vocabularySize, !neverGenerated.contains(token) else {
                        throw fail("depth \(depth) entry \(e) predicts token \(token), which cannot be generated")
                    }
                    guard token > previous else {
                        throw fail("depth \(depth) entries of node \(i) are not in ascending token order")
                    }
                    previous = token
                    entryTokens[e] = UInt16(token)
                    let weight = dequantised[Int(reader.u16(entryQAt + 2 * e))]
                    entryWeights[e] = weight
                    weightSum += Double(weight)
                }
                guard weightSum <= 1 + 1e-4 else {
                    throw fail("depth \(depth) node \(i): interpolation weights sum to \(weightSum) > 1")
                }
                gammas[i] = Float(max(0, 1 - weightSum))
            }
            levels.append(
                Level(
                    nodeTokens: nodeTokens, entryStart: entryStart, childStart: childStart, gammas: gammas,
                    entryTokens: entryTokens, entryWeights: entryWeights))
        }
        // Sibling order: the root's children (all depth-1 nodes), then each node's children.
        for d in 0..<depths {
            let level = levels[d]
            func checkAscending(_ range: Range<Int>, parent: String) throws {
                var previous = -1
                for i in range {
                    let token = Int(level.nodeTokens[i])
                    guard token > previous else {
                        throw fail("depth \(d + 1) children of \(parent) are not in ascending token order at node \(i)")
                    }
                    previous = token
                }
            }
            if d == 0 {
                try checkAscending(0..<level.nodeTokens.count, parent: "the root")
            } else {
                let parents = levels[d - 1]
                for p in 0..<parents.nodeTokens.count {
                    try checkAscending(Int(parents.childStart[p])..<Int(parents.childStart[p + 1]), parent: "depth \(d) node \(p)")
                }
            }
        }
        return NGramModel(order: order, vocabularySize: vocabularySize, unigram: unigram, levels: levels)
    }

    /// Writes `p(w | history)` for every token `w` into `probabilities` (count ≥ vocabulary
    /// size). Only the last `order - 1` tokens of `history` matter.
    func fillProbabilities(history: UnsafeBufferPointer<Int32>, into probabilities: UnsafeMutableBufferPointer<Float>) {
        let depths = levels.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: depths + 1) { found in
            // 1. Walk the trie: the longest stored suffix of the history, one token at a time.
            var matched = 0
            var lo = 0
            var hi = levels.first?.nodeTokens.count ?? 0
            while matched < depths, matched < history.count {
                let token = history[history.count - 1 - matched]
                guard token >= 0, token <= Int32(UInt16.max),
                    let node = levels[matched].find(UInt16(token), in: lo..<hi)
                else { break }
                found[matched] = node
                if matched + 1 < depths {
                    lo = Int(levels[matched].childStart[node])
                    hi = Int(levels[matched].childStart[node + 1])
                }
                matched += 1
            }
            // 2. Unrolled interpolation: p = Πγ·unigram + Σ_d (Π_{j>d} γ_j)·alpha_d.
            var scale: Float = 1
            for d in 0..<matched { scale *= levels[d].gammas[found[d]] }
            unigram.withUnsafeBufferPointer { uni in
                for w in 0..<vocabularySize { probabilities[w] = uni[w] * scale }
            }
            for d in 0..<matched {
                var multiplier: Float = 1
                for j in (d + 1)..<max(d + 1, matched) { multiplier *= levels[j].gammas[found[j]] }
                let level = levels[d]
                let node = found[d]
                let start = Int(level.entryStart[node])
                let end = Int(level.entryStart[node + 1])
                level.entryTokens.withUnsafeBufferPointer { tokens in
                    level.entryWeights.withUnsafeBufferPointer { weights in
                        for e in start..<end {
                            probabilities[Int(tokens[e])] += weights[e] * multiplier
                        }
                    }
                }
            }
        }
    }
}

extension NGramModel.Level {
    /// Binary search for `token` among the nodes `range` (ascending tokens).
    @inline(__always)
    func find(_ token: UInt16, in range: Range<Int>) -> Int? {
        var lo = range.lowerBound
        var hi = range.upperBound
        while lo < hi {
            let mid = (lo + hi) >> 1
            let value = nodeTokens[mid]
            if value == token { return mid }
            if value < token { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }
}

/// Bounds-checked little-endian reads over `weights.bin`.
struct WeightsReader {
    let bytes: [UInt8]
    let file: String
    private(set) var offset = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Reserves `count * width` bytes for section `name`; returns its start offset.
    mutating func take(_ name: String, count: Int, width: Int) throws -> Int {
        let (size, overflow1) = count.multipliedReportingOverflow(by: width)
        let (end, overflow2) = offset.addingReportingOverflow(size)
        guard count >= 0, !overflow1, !overflow2, end <= bytes.count else {
            throw BuiltinModelError.invalidWeights(
                "\(file): truncated: \(name) needs \(count)×\(width) bytes at offset \(offset), the file has \(bytes.count) bytes")
        }
        defer { offset = end }
        return offset
    }

    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }

    func u32(_ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    func f32(_ at: Int) -> Float { Float(bitPattern: u32(at)) }
}
