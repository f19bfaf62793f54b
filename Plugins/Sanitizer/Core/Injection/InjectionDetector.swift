import Foundation

/// Rampart's prompt-injection detector: Hyperscan rules (also over decoded base64/hex, rot13 and
/// leetspeak views), a Rebuff-style phrase similarity and a hashed n-gram model (linear term plus a small ReLU hidden layer),
/// combined into one calibrated score. Built only from a signed artifact that verifies.
///
/// Thread-safe: one detector serves any number of concurrent `scan` calls.
public struct InjectionDetector: Sendable {
    /// The synthetic rule reported when a rule matched only in a decoded view.
    public static let encodedPayloadRuleID = "encoded.instruction_in_payload"
    /// The resource directory name of the bundled artifact.
    public static let bundledArtifactName = "injection-model"

    private let engine: Engine

    /// Recommended thresholds (1 % and 0.1 % FPR on the training data's benign texts).
    public var thresholds: InjectionThresholds { engine.thresholds }
    /// The verified artifact's root digest.
    public var artifactDigest: String { engine.rootDigest }
    /// The rule ids and categories, in rule-file order.
    public var rules: [(id: String, category: String)] { engine.rules.map { ($0.id, $0.category) } }
    /// The artifact's combiner (for the tests).
    var combiner: InjectionCombiner { engine.combiner }

    /// Loads the artifact bundled with this module, verified against the compiled-in public key
    /// (``InjectionModelKey/publicKeyPEM``). Throws if it is missing or does not verify.
    public static func loadDefault() throws -> InjectionDetector {
        guard let directory = bundledArtifactDirectory else {
            throw InjectionDetectorError.artifactNotFound("Rampart_RampartSanitizerCore.resources/\(bundledArtifactName)")
        }
        return try InjectionDetector(artifactDirectory: directory, publicKeyPEM: InjectionModelKey.publicKeyPEM)
    }

    /// The bundled artifact directory, searched next to the main executable (SwiftPM resource
    /// bundle `Rampart_RampartSanitizerCore.resources`), or nil.
    public static var bundledArtifactDirectory: URL? {
        let bundleName = "Rampart_RampartSanitizerCore"
        var directories: [URL] = [Bundle.main.bundleURL]
        if let resources = Bundle.main.resourceURL { directories.append(resources) }
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
        for directory in directories {
            for suffix in [".resources", ".bundle"] {
                let candidate = directory.appendingPathComponent(bundleName + suffix).appendingPathComponent(bundledArtifactName)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                    return candidate
                }
            }
        }
        return nil
    }

    /// Loads and verifies an artifact directory (config.json, rules.json, the weights and
    /// model.sig) against `publicKeyPEM` (SubjectPublicKeyInfo PEM). Fails closed: any signature,
    /// digest, parse or rule-compilation problem throws an ``InjectionDetectorError``.
    public init(artifactDirectory: URL, publicKeyPEM: String) throws {
        let artifact = try InjectionArtifact(directory: artifactDirectory, publicKeyPEM: publicKeyPEM)
        engine = try Engine(artifact: artifact)
    }

    /// Scores one untrusted text. Never throws: if Hyperscan cannot scan (out of memory) the
    /// scan fails closed with score 1 and the synthetic rule `engine.scan_failed`.
    public func scan(_ text: String) -> InjectionScan {
        engine.scan(text)
    }

    /// ``scan(_:)`` with the fast paths off (`fastPaths: false`): the reference for the tests.
    func scan(_ text: String, fastPaths: Bool) -> InjectionScan {
        engine.scan(text, fastPaths: fastPaths)
    }
}

extension InjectionDetector {
    final class Engine: Sendable {
        let rules: [InjectionRuleFile.Rule]
        let synthetic: InjectionRuleFile.Synthetic
        let matcher: HyperscanRuleSet
        let model: HashedModel
        let heuristic: PhraseHeuristic
        let combiner: InjectionCombiner
        let decoding: InjectionModelConfig.Decoding
        let thresholds: InjectionThresholds
        let rootDigest: String

        init(artifact: InjectionArtifact) throws(InjectionDetectorError) {
            rules = artifact.rules.rules
            guard let synthetic = artifact.rules.synthetic.first(where: { $0.id == InjectionDetector.encodedPayloadRuleID }) else {
                throw .malformedArtifact(file: InjectionArtifact.rulesFile, reason: "missing synthetic rule")
            }
            self.synthetic = synthetic
            matcher = try HyperscanRuleSet(patterns: rules.map(\.pattern), requires: rules.map { $0.requires ?? [] }, names: rules.map(\.id))
            let config = artifact.config
            model = HashedModel(
                weights: artifact.weights, bucketsLog2: config.weights.bucketsLog2, bias: config.weights.bias,
                hiddenBias: config.weights.hiddenBias, hiddenOut: config.weights.hiddenOut,
                maxAnalysedBytes: config.features.maxAnalysedBytes, memory: artifact.memory)
            heuristic = PhraseHeuristic(maxAnalysedBytes: config.features.maxAnalysedBytes)
            combiner = config.combiner
            decoding = config.decoding
            thresholds = InjectionThresholds(fpr1Percent: config.thresholds.fpr1Percent, fpr01Percent: config.thresholds.fpr01Percent)
            rootDigest = artifact.rootDigest
        }

        /// Scores `text`. With `fastPaths` false, every view is scanned in full (all anchors and
        /// rules, the rot13 view always, the general normaliser): the reference the tests compare
        /// the fast paths with (same score, matches and decoded count).
        func scan(_ text: String, fastPaths: Bool = true) -> InjectionScan {
            let views = fastPaths ? InjectionNormalizer.views(of: text) : InjectionNormalizer.generalViews(of: text)
            // All mutable scan state in one value (InjectionScanState: no boxed captures).
            var state = InjectionScanState(matcher: matcher, fastPaths: fastPaths, ruleCount: rules.count)

            // The model's one reading of the surface text (case kept): its run-on tasks.
            let runOnTasks = model.runOnTasks(surface: views.surface)
            // The normalised text, then its rot13 and leetspeak views, built byte by byte in one
            // scratch buffer (no String per view).
            var normalized = views.normalized
            normalized.withUTF8 { utf8 in
              withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(utf8.count, 1)) { buffer in
                guard let base = buffer.baseAddress else { return }
                let view = UnsafeBufferPointer(start: base, count: utf8.count)
                // The leetspeak view first: when it changed only digits, the text's candidate
                // rules that cannot consume a digit (`digitFreeRules`) are decided on the view
                // (below) instead of being scanned on the text too.
                let leet = fastPaths && PayloadDecoder.mayHaveLeetspeak(utf8) ? PayloadDecoder.leetspeakView(utf8, into: buffer) : .none
                var deferred: UInt64 = 0
                if leet == .digitsOnly {
                    state.scanned += utf8.count
                    if let (bits, rot13, anchors, later) = matcher.scanAnchored(utf8, skipping: 0, deferring: matcher.digitFreeRules) {
                        state.rot13Rules = rot13
                        state.originalAnchors = anchors
                        deferred = later
                        state.original = bits
                        state.record(bits, view: .original, depth: 0)
                    } else {
                        state.failed = true
                    }
                } else {
                    state.original = state.run(utf8, view: .original, depth: 0)
                }
                // The model and the similarity read the same prefix. On ASCII text (lower case:
                // normalised) the model's words are the similarity's tokens: the model records
                // them and the similarity reads them instead of tokenising again.
                let prefix = UnsafeBufferPointer(rebasing: utf8.prefix(model.maxAnalysedBytes))
                if fastPaths && views.asciiNormalized && heuristic.maxAnalysedBytes == model.maxAnalysedBytes {
                    withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: prefix.count / 2 + 1) { spans in
                        let (result, words) = model.logit(bytes: prefix, runOnTasks: runOnTasks, words: spans.baseAddress)
                        state.modelResult = result
                        state.similarity = heuristic.score(bytes: prefix, tokens: UnsafeBufferPointer(rebasing: spans.prefix(words)))
                    }
                } else {
                    state.modelResult = model.logit(bytes: prefix, runOnTasks: runOnTasks)
                    state.similarity = heuristic.score(bytes: UnsafeBufferPointer(rebasing: utf8.prefix(heuristic.maxAnalysedBytes)))
                }
                // The rules the leetspeak view matches (recorded after the rot13 view's: a rule
                // found in both keeps rot13 as its first view, as in the general path). The view
                // differs from the text only at its leetspeak bytes: anchors are rescanned only
                // around them (HyperscanRuleSet), same result. A deferred rule that the view does
                // not match cannot match the text (every match of the text is one of the view);
                // one that it matches is scanned on the text to tell where it matched first.
                var leetBits: UInt64 = 0
                if leet != .none {
                    state.scanned += view.count
                    if let bits = matcher.scan(view, derivedFrom: utf8, anchors: state.originalAnchors, skipping: state.original) {
                        let toConfirm = bits & deferred
                        if toConfirm != 0 {
                            if let confirmed = matcher.scan(utf8, onlyRules: toConfirm) {
                                state.original |= confirmed & toConfirm
                                state.record(confirmed & toConfirm, view: .original, depth: 0)
                            } else {
                                state.failed = true
                            }
                        }
                        leetBits = bits & ~state.original
                    } else {
                        state.failed = true
                    }
                }
                // The rot13 view can only match the rules whose required literals' rot13
                // images all occur in the text (the anchor scan found them): only those not
                // found yet are run on it, without a second anchor scan. It reuses the buffer.
                if !fastPaths {
                    PayloadDecoder.rot13(utf8, into: buffer)
                    state.extra |= state.run(view, view: .rot13, depth: 0)
                } else if state.rot13Rules & ~state.original != 0 {
                    PayloadDecoder.rot13(utf8, into: buffer)
                    state.scanned += view.count
                    if let bits = matcher.scan(view, onlyRules: state.rot13Rules & ~state.original) {
                        state.record(bits, view: .rot13, depth: 0)
                        state.extra |= bits
                    } else {
                        state.failed = true
                    }
                }
                if !fastPaths {
                    if PayloadDecoder.leetspeak(utf8, into: buffer) { state.extra |= state.run(view, view: .leetspeak, depth: 0) }
                } else {
                    state.record(leetBits & ~state.extra, view: .leetspeak, depth: 0)
                    state.extra |= leetBits
                }
              }
            }

            // Encoded segments, breadth first, depth ≤ maxDepth, bounded in count and bytes.
            var budget = decoding.maxDecodedBytes
            var segments = 0
            var frontier = [views.surface]
            var depth = 0
            while depth < decoding.maxDepth && !frontier.isEmpty {
                depth += 1
                var next: [String] = []
                for var source in frontier {
                    source.withUTF8 { utf8 in
                        /// Rescans one decoded segment (its rules and phrase similarity) and keeps
                        /// its surface for the next depth, unless it is over the remaining budget.
                        func rescan(_ view: InjectionView, _ decoded: String) {
                            let size = decoded.utf8.count
                            guard size <= budget else { return }
                            budget -= size
                            segments += 1
                            let decodedViews = fastPaths ? InjectionNormalizer.views(of: decoded) : InjectionNormalizer.generalViews(of: decoded)
                            state.extra |= state.run(decodedViews.normalized, view: view, depth: depth)
                            state.similarity = max(state.similarity, heuristic.score(normalized: decodedViews.normalized))
                            next.append(decodedViews.surface)
                        }
                        // base64/hex candidates, then Morse candidates (the script's order: it
                        // matters only where the segment count or the byte budget runs out).
                        for range in PayloadDecoder.candidates(utf8, minimumRun: decoding.minRun) {
                            if segments >= decoding.maxSegments { break }
                            if let (view, decoded) = PayloadDecoder.decode(UnsafeBufferPointer(rebasing: utf8[range])) {
                                rescan(view, decoded)
                            }
                        }
                        for range in PayloadDecoder.morseCandidates(utf8) {
                            if segments >= decoding.maxSegments { break }
                            // The remaining budget also stops a long decoding early.
                            if let decoded = PayloadDecoder.decodeMorse(UnsafeBufferPointer(rebasing: utf8[range]), limit: budget) {
                                rescan(.morse, decoded)
                            }
                        }
                    }
                }
                frontier = next
            }

            let all = state.original | state.extra
            let onlyDecoded = state.extra & ~state.original
            var evidence = 0.0
            var matches: [RuleMatch] = []
            for (i, rule) in rules.enumerated() where all & (UInt64(1) << UInt64(i)) != 0 {
                evidence += rule.weight
                let first = (i < state.firstView.count ? state.firstView[i] : nil) ?? (.original, 0)
                matches.append(RuleMatch(ruleID: rule.id, category: rule.category, weight: rule.weight, view: first.view, depth: first.depth))
            }
            if onlyDecoded != 0 {
                evidence += synthetic.weight
                let i = onlyDecoded.trailingZeroBitCount
                let first = (i < state.firstView.count ? state.firstView[i] : nil) ?? (.base64, 1)
                matches.append(RuleMatch(ruleID: synthetic.id, category: synthetic.category, weight: synthetic.weight, view: first.view, depth: first.depth))
            }
            evidence = min(combiner.ruleEvidenceCap, evidence)
            let (logit, features, known) = state.modelResult
            // The model cannot read an instruction hidden in an encoding (base64/hex, rot13,
            // leetspeak, invisible tag characters): when a rule matched only in a decoded view, or
            // any rule matched in a text that smuggled tag characters, it may not veto that
            // evidence (InjectionCombiner).
            let hidden = onlyDecoded != 0 || (views.tagCharacters > 0 && all != 0)
            var score = combiner.score(
                logit: logit, evidence: evidence, similarity: state.similarity, knownAttacks: known, hiddenInstruction: hidden)
            if state.failed {
                score = 1.0
                matches.append(RuleMatch(ruleID: "engine.scan_failed", category: "error", weight: 0, view: .original, depth: 0))
            }
            return InjectionScan(
                score: score, matches: matches, decodedPayloads: segments, modelLogit: logit, ruleEvidence: evidence,
                phraseSimilarity: state.similarity, knownAttackFraction: known, tagCharacters: views.tagCharacters, invisibleCharacters: views.invisibleCharacters,
                scannedBytes: state.scanned, modelFeatures: features)
        }
    }
}
