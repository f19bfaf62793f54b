import ArgumentParser
import Foundation
import RampartSanitizerCore

/// `rampart eval pii`: recall and false-positive rate of the PII/secret detectors per type on a
/// labelled JSONL file (`text`, `label` = type or `none`, `negative_for` = the type that must not
/// fire on a negative line), plus the sanitizer's speed.
struct EvalPII: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pii",
        abstract: "Evaluate PII and secret detection on labelled JSONL data.",
        discussion: """
            A positive line counts as found when a finding of its label's type (or of one of its
            also_labels, the types the data accepts as equally right) is reported; a negative
            line is a false positive when a finding of its negative_for type is reported. Labels
            that name a source tool's coarser secret type (detect-secrets' AWS_ACCESS_KEY: key IDs
            and secret access keys; SLACK_TOKEN: tokens and webhooks) accept each finer type of
            theirs, for positives and negatives alike. A value that passes the checks of several
            types is one finding that names them all (its type and its alternatives): each of them
            counts, for positives and negatives alike. Types the
            detectors do not cover are listed separately (recall 0, not hidden). --split holdout uses
            the lines whose SHA-256 of the text ends in a byte below 52 (about a fifth), dev the rest.
            """)

    @Option(name: .long, help: "The JSONL file (e.g. ../shared/data/pii-dev.jsonl).")
    var data: String

    @Option(name: .long, help: "all, dev or holdout.")
    var split: String = "all"

    @Flag(name: .long, help: "Skip the speed measurement.")
    var noSpeed = false

    @Option(name: .long, help: "Also time the PII/secret scanner alone on this file's text (e.g. prose, where little is found).")
    var scanFile: String?

    @Flag(name: .long, help: "Time each rule's expression alone on the 1 MB PII-dense text (slowest first).")
    var profileRules = false

    @Flag(name: [.long, .customLong("show-misses")], help: "Print each missed positive and each false positive (to the terminal only).")
    var showErrors = false

    @Flag(name: .long, help: "Print every finding on a negative line (any type), to judge the 'any finding' rate.")
    var showNegativeFindings = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: data) else {
            print("eval pii: \(data) not found; skipping (the development data is not part of the repository)")
            return
        }
        guard ["all", "dev", "holdout"].contains(split) else { throw CLIError("--split must be all, dev or holdout") }
        let scanner = try SensitiveDataScanner()
        let known = Set(scanner.types)
        struct Tally { var positives = 0, found = 0, negatives = 0, falsePositives = 0 }
        var tallies: [String: Tally] = [:]
        var anyFire = 0, negatives = 0, lines = 0
        var negativeFindingTypes: [String: Int] = [:]
        var bytesScanned = 0
        let contents = try String(contentsOfFile: data, encoding: .utf8)
        let start = Date()
        for line in contents.split(separator: "\n") where !line.isEmpty {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let text = object["text"] as? String, let label = object["label"] as? String else { continue }
            let lastByte = RampartSanitizerCore.EvalSupport.sha256LastByte(text)
            if split == "holdout" && lastByte >= 52 { continue }
            if split == "dev" && lastByte < 52 { continue }
            lines += 1
            bytesScanned += text.utf8.count
            // Each line stands for one message: scanned as a whole field, as the sanitizer does.
            let findings = try scanner.scan(text, scope: .field)
            let found = Set(findings.flatMap(\.types))  // a value's alternative types count too (SensitiveFinding)
            if label == "none" {
                negatives += 1
                if !found.isEmpty { anyFire += 1 }
                for type in found { negativeFindingTypes[type, default: 0] += 1 }
                if showNegativeFindings, !findings.isEmpty {
                    let bytes = Array(text.utf8)
                    let values = findings.map { "\($0.type)=\(Self.excerpt(String(decoding: bytes[$0.range], as: UTF8.self)))" }
                    print("NEG  negative_for=\(object["negative_for"] as? String ?? "-"): \(Self.excerpt(text)) -> \(values.joined(separator: ", "))")
                }
                guard let target = object["negative_for"] as? String else { continue }
                tallies[target, default: Tally()].negatives += 1
                if !found.isDisjoint(with: LabelFamilies.reportedTypes(for: target)) {
                    tallies[target, default: Tally()].falsePositives += 1
                    if showErrors { print("FP   \(target): \(Self.excerpt(text))") }
                }
            } else {
                tallies[label, default: Tally()].positives += 1
                let accepted = LabelFamilies.reportedTypes(for: label).union((object["also_labels"] as? [String] ?? []))
                if !found.isDisjoint(with: accepted) {
                    tallies[label, default: Tally()].found += 1
                } else if showErrors {
                    print("MISS \(label)\(known.contains(label) ? "" : " (not covered)"): \(Self.excerpt(text)) found=\(found.sorted())")
                }
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        func pct(_ a: Int, _ b: Int) -> String { b == 0 ? "    -" : String(format: "%5.1f", 100 * Double(a) / Double(b)) }
        print("eval pii: \(data) split=\(split) lines=\(lines)")
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count)
        }
        print(pad("type", 40) + pad("positives", 10, left: true) + pad("recall%", 9, left: true) + pad("negatives", 10, left: true)
              + pad("FP%", 7, left: true))
        var covered = Tally(), uncovered = Tally()
        var uncoveredTypes: [String] = []
        for type in tallies.keys.sorted() {
            guard let t = tallies[type] else { continue }
            let mark = known.contains(type) ? "" : " (not covered)"
            print(pad(type + mark, 40) + pad("\(t.positives)", 10, left: true) + pad(pct(t.found, t.positives), 9, left: true)
                  + pad("\(t.negatives)", 10, left: true) + pad(pct(t.falsePositives, t.negatives), 7, left: true))
            if known.contains(type) {
                covered.positives += t.positives; covered.found += t.found
                covered.negatives += t.negatives; covered.falsePositives += t.falsePositives
            } else {
                uncovered.positives += t.positives
                uncovered.negatives += t.negatives; uncovered.falsePositives += t.falsePositives
                if t.positives > 0 { uncoveredTypes.append(type) }
            }
        }
        print("covered types:   recall \(pct(covered.found, covered.positives)) % of \(covered.positives), "
              + "FP \(pct(covered.falsePositives, covered.negatives)) % of \(covered.negatives) targeted negatives")
        print("all labels:      recall \(pct(covered.found, covered.positives + uncovered.positives)) % of \(covered.positives + uncovered.positives) "
              + "(\(uncoveredTypes.count) types not covered)")
        print("any finding on a negative line: \(pct(anyFire, negatives)) % of \(negatives)"
              + (negativeFindingTypes.isEmpty ? "" : " (types: "
                 + negativeFindingTypes.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }
                    .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"))
        print(String(format: "scan: %.1f MB in %.3f s", Double(bytesScanned) / 1e6, elapsed))
        if !noSpeed { try speed() }
    }

    /// The first 160 characters of `text` on one line.
    static func excerpt(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "⏎")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }

    /// The whole request path on 1 KB prompts, and the scanner's rate on 1 MB of mixed text.
    func speed() throws {
        let sanitizer = try Sanitizer()
        let sentence = "Please summarise the quarterly report for the Berlin office and draft a polite reply to the customer. "
        var prompt = ""
        while prompt.utf8.count < 1024 { prompt += sentence }
        prompt = String(decoding: prompt.utf8.prefix(1024), as: UTF8.self)
        let request = RequestInput(messages: [MessageInput(role: .system, content: "You are a helpful assistant."),
                                              MessageInput(role: .user, content: prompt)])
        for _ in 0..<200 { _ = try sanitizer.sanitize(request, session: SanitizerSession()) }
        var samples: [Double] = []
        for _ in 0..<2000 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try sanitizer.sanitize(request, session: SanitizerSession())
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        samples.sort()
        let p50 = samples[samples.count / 2], p99 = samples[samples.count * 99 / 100]
        print(String(format: "sanitizer, 1 KB user prompt + system prompt: p50 %.1f µs, p99 %.1f µs per request", p50, p99))
        var big = ""
        while big.utf8.count < 1 << 20 { big += sentence + "Contact ops@example.com or +1 415 555 0132. " }
        let bigRequest = RequestInput(messages: [MessageInput(role: .user, content: big)])
        var config = SanitizerConfig()
        config.maxMessageBytes = 4 << 20
        config.maxTotalBytes = 4 << 20
        let large = try Sanitizer(config: config)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let rounds = 10
        for _ in 0..<rounds { _ = try large.sanitize(bigRequest, session: SanitizerSession()) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print(String(format: "sanitizer throughput on 1 MB prompts (with PII to redact): %.1f MB/s (one core)",
                     Double(big.utf8.count * rounds) / 1e6 / seconds))
        let scanner = try SensitiveDataScanner()
        let bytes = Array(big.utf8)
        if profileRules { try profileRules(bytes) }
        let t1 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { _ = try scanner.scan(bytes: bytes) }
        let scanSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
        print(String(format: "PII/secret scanner alone: %.1f MB/s", Double(bytes.count * rounds) / 1e6 / scanSeconds))
        if let scanFile { try scanRate(scanner, file: scanFile) }
    }

    /// The scanner's rate on a file's text (about 64 MB scanned in all; the best of five passes).
    func scanRate(_ scanner: SensitiveDataScanner, file: String) throws {
        let bytes = Array(try String(contentsOfFile: file, encoding: .utf8).utf8)
        guard !bytes.isEmpty else { throw CLIError("--scan-file: \(file) is empty") }
        let rounds = max(1, (64 << 20) / 5 / bytes.count)
        var findings = 0, best = Double.infinity
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds { findings = try scanner.scan(bytes: bytes).count }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        print(String(format: "PII/secret scanner alone on %@ (%d bytes, %d findings): %.1f MB/s", file, bytes.count, findings,
                     Double(bytes.count * rounds) / 1e6 / best))
    }

    /// Each rule's own Hyperscan scan rate on the 1 MB PII-dense text (slowest first): where the
    /// scanner's time goes.
    func profileRules(_ text: [UInt8]) throws {
        // Rules added one at a time to one database: the marginal cost of each (in its order).
        let all = PIIRules.all + SecretRules.all
        func time(_ rules: ArraySlice<SensitiveRule>) throws -> Double {
            let database = try PatternDatabase(rules.enumerated().map { index, rule in
                PatternSpec(rule.expression, id: UInt32(index), caseless: rule.caseless)
            })
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try text.withUnsafeBytes { raw in try database.scan(raw) { _, _, _ in true } }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            return best
        }
        // Leave one group of rules out: what each group costs inside the shared database.
        let whole = try time(all[...])
        print(String(format: "all rules: %.1f ms per MB", whole))
        var costs: [(String, Double)] = []
        let size = 6
        for first in stride(from: 0, to: all.count, by: size) {
            let last = min(all.count, first + size)
            let rest = Array(all[0..<first]) + Array(all[last...])
            let ms = try time(rest[...])
            costs.append(("\(first)-\(last - 1) " + Set(all[first..<last].map(\.type)).sorted().joined(separator: ","), whole - ms))
        }
        for (name, ms) in costs.sorted(by: { $0.1 > $1.1 }).prefix(12) { print(String(format: "%+7.2f ms  %@", ms, name)) }
        // All rules in one database, with and without leftmost start-of-match tracking.
        for som in [true, false] {
            let all = PIIRules.all + SecretRules.all
            let database = try PatternDatabase(all.enumerated().map { index, rule in
                PatternSpec(rule.expression, id: UInt32(index), caseless: rule.caseless, leftmostStart: som)
            })
            var count = 0
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<5 {
                try text.withUnsafeBytes { raw in
                    try database.scan(raw) { _, _, _ in
                        count += 1
                        return true
                    }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            print(String(format: "%8.1f MB/s  all rules, one database, start of match %@ (%d matches)", Double(text.count * 5) / 1e6 / seconds,
                         som ? "tracked" : "not tracked", count / 5))
        }
    }
}
