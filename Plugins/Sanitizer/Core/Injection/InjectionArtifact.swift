import Foundation
import RampartCrypto
import RampartSigning

/// config.json of the artifact (written by scripts/train-injection-model.py).
struct InjectionModelConfig: Decodable, Sendable {
    struct Weights: Decodable, Sendable {
        let file: String
        let dtype: String
        let bucketsLog2: Int
        let bias: Double
        /// Floats per bucket: 1 (linear weight only) or ``HashedModel/hiddenRow`` (linear weight,
        /// then the hidden units' weights).
        let row: Int
        let activation: String
        let hiddenBias: [Double]
        let hiddenOut: [Double]
        enum CodingKeys: String, CodingKey {
            case file, dtype, bias, row, activation
            case bucketsLog2 = "buckets_log2"
            case hiddenBias = "hidden_bias"
            case hiddenOut = "hidden_out"
        }
    }

    struct Features: Decodable, Sendable {
        let hash: String
        let wordUnigramNamespace: Int
        let shapeNamespace: Int
        let shape: String
        let affixBytes: Int
        let maxAnalysedBytes: Int
        enum CodingKeys: String, CodingKey {
            case hash, shape
            case wordUnigramNamespace = "word_unigram_ns"
            case shapeNamespace = "shape_ns"
            case affixBytes = "affix_bytes"
            case maxAnalysedBytes = "max_analysed_bytes"
        }
    }

    struct Decoding: Decodable, Sendable {
        let maxDepth: Int
        let maxDecodedBytes: Int
        let maxSegments: Int
        let minRun: Int
        enum CodingKeys: String, CodingKey {
            case maxDepth = "max_depth"
            case maxDecodedBytes = "max_decoded_bytes"
            case maxSegments = "max_segments"
            case minRun = "min_run"
        }
    }

    /// The known-attack memory's file (``KnownAttackMemory``).
    struct Memory: Decodable, Sendable {
        let file: String
        let dtype: String
        let ngram: Int
        let minInjections: Int
        let entries: Int
        enum CodingKeys: String, CodingKey {
            case file, dtype, ngram, entries
            case minInjections = "min_injections"
        }
    }

    struct Thresholds: Decodable, Sendable {
        let fpr1Percent: Double
        let fpr01Percent: Double
        enum CodingKeys: String, CodingKey {
            case fpr1Percent = "fpr_1pct"
            case fpr01Percent = "fpr_0_1pct"
        }
    }

    let format: String
    let version: Int
    let weights: Weights
    let features: Features
    let decoding: Decoding
    let memory: Memory
    let combiner: InjectionCombiner
    let thresholds: Thresholds
}

/// rules.json of the artifact: the hand-written rule set (docs/SANITIZER-INJECTION.md lists it).
struct InjectionRuleFile: Decodable, Sendable {
    struct Rule: Decodable, Sendable {
        let id: String
        let category: String
        let weight: Double
        let pattern: String
        let description: String
        /// The rule's required literals (its prefilter, derived by scripts/derive-rule-anchors.py):
        /// every match contains, case-insensitively, one literal of each group. Absent or empty:
        /// the rule runs on every text.
        let requires: [[String]]?
    }

    struct Synthetic: Decodable, Sendable {
        let id: String
        let category: String
        let weight: Double
        let description: String
    }

    let version: Int
    let synthetic: [Synthetic]
    let rules: [Rule]
}

/// Loads a signed artifact directory: verify first (OpenSSF model-signing v1.0 against the
/// given key), then read each needed file once and check its bytes against the signed digest
/// (so a file swapped after verification is refused too), then parse with bounds checks.
struct InjectionArtifact: Sendable {
    static let configFile = "config.json"
    static let rulesFile = "rules.json"
    static let maximumFileSize = 64 << 20

    let config: InjectionModelConfig
    let rules: InjectionRuleFile
    let weights: [Float]
    let memory: KnownAttackMemory
    /// The root digest of the verified signature (identifies the exact artifact in logs).
    let rootDigest: String

    init(directory: URL, publicKeyPEM: String) throws(InjectionDetectorError) {
        let key: VerifyingKey
        do {
            key = try VerifyingKey(pemRepresentation: publicKeyPEM)
        } catch {
            throw .invalidPublicKey(error)
        }
        let manifest: VerifiedManifest
        do {
            manifest = try ModelVerifier.verify(directory: directory.path, trustedKeys: [key])
        } catch {
            throw .signatureInvalid(error)
        }
        var signed: [String: String] = [:]
        for file in manifest.files { signed[file.path] = file.sha256.lowercased() }

        func read(_ name: String) throws(InjectionDetectorError) -> Data {
            guard let digest = signed[name] else { throw .fileNotSigned(name) }
            let data: Data
            do {
                let url = directory.appendingPathComponent(name)
                let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
                guard size <= Self.maximumFileSize else {
                    throw InjectionDetectorError.malformedArtifact(file: name, reason: "larger than \(Self.maximumFileSize) bytes")
                }
                data = try Data(contentsOf: url)
            } catch let error as InjectionDetectorError {
                throw error
            } catch {
                throw .unreadable(file: name, reason: "\(error)")
            }
            let actual = hexString(SHA256.hash(data))
            guard actual == digest else { throw .digestMismatch(file: name, signed: digest, actual: actual) }
            return data
        }

        let configData = try read(Self.configFile)
        let config: InjectionModelConfig
        do {
            config = try JSONDecoder().decode(InjectionModelConfig.self, from: configData)
        } catch {
            throw .malformedArtifact(file: Self.configFile, reason: "\(error)")
        }
        try Self.validate(config)
        let rulesData = try read(Self.rulesFile)
        let rules: InjectionRuleFile
        do {
            rules = try JSONDecoder().decode(InjectionRuleFile.self, from: rulesData)
        } catch {
            throw .malformedArtifact(file: Self.rulesFile, reason: "\(error)")
        }
        try Self.validate(rules)
        for (key, name) in [("weights.file", config.weights.file), ("memory.file", config.memory.file)] {
            guard !name.contains("/"), name != Self.configFile, name != Self.rulesFile else {
                throw .malformedArtifact(file: Self.configFile, reason: "\(key) must be a plain file name")
            }
        }
        guard config.memory.file != config.weights.file else {
            throw .malformedArtifact(file: Self.configFile, reason: "memory.file and weights.file must differ")
        }
        let weightData = try read(config.weights.file)
        let expected = (4 * config.weights.row) << config.weights.bucketsLog2
        guard weightData.count == expected else {
            throw .malformedArtifact(file: config.weights.file, reason: "expected \(expected) bytes, found \(weightData.count)")
        }
        var weights = [Float](repeating: 0, count: config.weights.row << config.weights.bucketsLog2)
        var finite = true
        weightData.withUnsafeBytes { raw in
            for i in 0..<weights.count {
                let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                let value = Float(bitPattern: UInt32(littleEndian: bits))
                if !value.isFinite { finite = false }
                weights[i] = value
            }
        }
        guard finite else { throw .malformedArtifact(file: config.weights.file, reason: "non-finite weight") }
        memory = try KnownAttackMemory(
            file: try read(config.memory.file), name: config.memory.file, expectedEntries: config.memory.entries)
        self.config = config
        self.rules = rules
        self.weights = weights
        self.rootDigest = manifest.rootDigest
    }

    static func validate(_ config: InjectionModelConfig) throws(InjectionDetectorError) {
        func fail(_ reason: String) -> InjectionDetectorError { .malformedArtifact(file: configFile, reason: reason) }
        guard config.format == "rampart-injection-model", config.version == 1 else {
            throw fail("unsupported format \(config.format) version \(config.version)")
        }
        guard config.weights.dtype == "float32-le", (8...24).contains(config.weights.bucketsLog2) else {
            throw fail("weights must be float32-le with 8...24 bucket bits")
        }
        let w = config.weights
        guard w.activation == "relu", w.row == 1 || w.row == HashedModel.hiddenRow, w.hiddenBias.count == w.row - 1,
            w.hiddenOut.count == w.row - 1
        else {
            throw fail("weights.row must be 1 or \(HashedModel.hiddenRow) with row - 1 relu hidden biases and outputs")
        }
        let f = config.features
        guard f.hash == "rampart-hash-v3", f.shape == "v5", f.wordUnigramNamespace == Int(HashedModel.unigramNamespace),
            f.shapeNamespace == Int(HashedModel.shapeNamespace), f.affixBytes == 3, (1...(1 << 24)).contains(f.maxAnalysedBytes)
        else {
            throw fail("unsupported feature definition (this runtime computes rampart-hash-v3 words, bigrams, 3-byte affixes and shape v5)")
        }
        let d = config.decoding
        guard (0...4).contains(d.maxDepth), (0...(1 << 20)).contains(d.maxDecodedBytes), (0...256).contains(d.maxSegments),
            (8...1024).contains(d.minRun)
        else {
            throw fail("decoding limits out of range")
        }
        let m = config.memory
        guard m.dtype == KnownAttackMemory.dtype, m.ngram == KnownAttackMemory.ngram, m.minInjections >= 1,
            (0...KnownAttackMemory.maximumEntries).contains(m.entries)
        else {
            throw fail("unsupported memory (this runtime reads \(KnownAttackMemory.dtype) word \(KnownAttackMemory.ngram)-grams)")
        }
        let c = config.combiner
        let t = config.thresholds
        for value in [c.model, c.rules, c.heuristic, c.knownAttacks, c.bias, c.ruleEvidenceCap, config.weights.bias, t.fpr1Percent, t.fpr01Percent]
            + w.hiddenBias + w.hiddenOut
        where !value.isFinite {
            throw fail("non-finite number")
        }
    }

    /// True if a non-ASCII scalar appears inside a bracket expression (escapes honoured).
    static func hasNonASCIIInClass(_ pattern: String) -> Bool {
        var inClass = false
        var escaped = false
        for scalar in pattern.unicodeScalars {
            if escaped {
                escaped = false
                if inClass && !scalar.isASCII { return true }
                continue
            }
            switch scalar {
            case "\\": escaped = true
            case "[": inClass = true
            case "]": inClass = false
            default: if inClass && !scalar.isASCII { return true }
            }
        }
        return false
    }

    static func validate(_ rules: InjectionRuleFile) throws(InjectionDetectorError) {
        guard rules.version == 1 else {
            throw .malformedArtifact(file: rulesFile, reason: "unsupported version \(rules.version)")
        }
        var seen = Set<String>()
        for rule in rules.rules {
            guard seen.insert(rule.id).inserted, rule.weight.isFinite, rule.weight >= 0, !rule.pattern.isEmpty else {
                throw .malformedArtifact(file: rulesFile, reason: "rule '\(rule.id)' is duplicated or has a bad weight/pattern")
            }
            let groups = rule.requires ?? []
            guard groups.count <= 8, groups.allSatisfy({ !$0.isEmpty && $0.count <= 256 && $0.allSatisfy { !$0.isEmpty && $0.utf8.count <= 256 } })
            else {
                throw .malformedArtifact(file: rulesFile, reason: "rule '\(rule.id)' has an empty or oversized 'requires' group")
            }
            guard !hasNonASCIIInClass(rule.pattern) else {
                throw .malformedArtifact(
                    file: rulesFile, reason: "rule '\(rule.id)' has a non-ASCII character inside [...] (rules are byte-mode)")
            }
        }
        guard rules.synthetic.contains(where: { $0.id == InjectionDetector.encodedPayloadRuleID }) else {
            throw .malformedArtifact(file: rulesFile, reason: "missing synthetic rule \(InjectionDetector.encodedPayloadRuleID)")
        }
    }
}
