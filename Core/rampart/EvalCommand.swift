import ArgumentParser
import Foundation
import RampartSanitizerCore

/// `rampart eval`: detection quality and cost of the sanitizer's detectors on labelled data.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate the sanitizer's detectors on labelled JSONL data.",
        subcommands: [EvalInjection.self, EvalPII.self])
}

/// `rampart eval injection --data FILE.jsonl [--split heldout|all]`.
struct EvalInjection: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "injection",
        abstract: "TPR at 1 % / 0.1 % FPR, ROC AUC, hard-negative FP, per source/category, latency.",
        discussion: """
            Each line of the JSONL file is {"text", "label" ("injection" or anything else), "source", \
            "category"}. The default split, heldout, keeps the 20 % of texts that \
            scripts/train-injection-model.py never trains or calibrates on (SHA-256 of the text, first \
            8 bytes big-endian, mod 5 == 0). TPR at a fixed FPR uses thresholds set on this split's \
            negatives (the ROC operating points); the operating threshold for the hard-negative rate \
            and the per-group table is the artifact's recommended 1 % threshold, chosen on the training \
            part. Build in release mode for meaningful latency numbers.
            """)

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case heldout, all
    }

    @Option(name: .long, help: "The labelled JSONL file.") var data: String
    @Option(name: .long, help: "heldout (default) or all.") var split: Split = .heldout
    @Option(name: .long, help: "Operating threshold (default: the artifact's recommended 1 % FPR threshold).")
    var threshold: Double?
    @Option(name: .long, help: "Evaluate this artifact directory instead of the bundled one (needs --key).")
    var model: String?
    @Option(name: .long, help: "Public key PEM that signed --model.") var key: String?
    @Option(name: .long, help: "Timed passes over the data for the latency figures.") var rounds = 3
    @Option(name: .long, help: "Also write one line per evaluated text: record number in FILE (1-based, blank lines skipped), label, score (TSV).")
    var scoresOut: String?

    func run() throws {
        let detector: InjectionDetector
        if let model {
            guard let key else { throw CLIError("--model needs --key (the public key that signed it)") }
            let pem = try String(contentsOfFile: key, encoding: .utf8)
            detector = try InjectionDetector(artifactDirectory: URL(fileURLWithPath: model), publicKeyPEM: pem)
        } else {
            detector = try InjectionDetector.loadDefault()
        }
        let everything = try InjectionMetrics.load(path: data)
        let selected = everything.indices.filter { split == .all || InjectionSplit.isHeldOut(everything[$0].text) }
        let examples = selected.map { everything[$0] }
        guard !examples.isEmpty else { throw CLIError("\(data): no examples in split \(split.rawValue)") }

        let scans = examples.map { detector.scan($0.text) }
        let scores = scans.map(\.score)
        if let scoresOut {
            var tsv = ""
            for (index, scan) in zip(selected, scans) {
                tsv += "\(index + 1)\t\(everything[index].label)\t\(scan.score)\n"
            }
            try tsv.write(toFile: scoresOut, atomically: true, encoding: .utf8)
        }
        let labels = examples.map(\.isInjection)
        let positives = zip(scores, labels).filter { $0.1 }.map(\.0)
        let negatives = zip(scores, labels).filter { !$0.1 }.map(\.0)
        let operating = threshold ?? detector.thresholds.fpr1Percent

        print("rampart eval injection: \(data), split \(split.rawValue): \(examples.count) of \(everything.count) texts "
            + "(\(positives.count) injection, \(negatives.count) benign)")
        print("artifact \(detector.artifactDigest.prefix(16))…, recommended thresholds: 1 % FPR \(fmt(detector.thresholds.fpr1Percent, 4)), "
            + "0.1 % FPR \(fmt(detector.thresholds.fpr01Percent, 4))")
        print("")
        let auc = InjectionMetrics.rocAUC(scores: scores, labels: labels)
        print(row("ROC AUC", auc.map { fmt($0, 4) } ?? "n/a (one class only)"))
        for fpr in [0.01, 0.001] {
            let t = InjectionMetrics.threshold(negativeScores: negatives, fpr: fpr)
            let allowed = Int((fpr * Double(negatives.count)).rounded(.down))
            print(row("TPR @ \(fpr == 0.01 ? "1 %" : "0.1 %") FPR",
                "\(pct(InjectionMetrics.rate(positives, atOrAbove: t)))  (threshold \(fmt(t, 4)) on this split: ≤ \(allowed) of \(negatives.count) benign flagged)"))
        }
        for (name, t) in [("1 %", detector.thresholds.fpr1Percent), ("0.1 %", detector.thresholds.fpr01Percent)] {
            print(row("at recommended \(name) threshold",
                "TPR \(pct(InjectionMetrics.rate(positives, atOrAbove: t))), FPR \(pct(InjectionMetrics.rate(negatives, atOrAbove: t)))  (threshold \(fmt(t, 4)))"))
        }
        let hard = zip(examples, scores).filter { $0.0.isHardNegative }.map(\.1)
        print(row("hard-negative FP", hard.isEmpty ? "n/a (no hard_negative_* texts)"
            : "\(pct(InjectionMetrics.rate(hard, atOrAbove: operating)))  (n = \(hard.count), threshold \(fmt(operating, 4)))"))

        print("")
        print("by source / category at threshold \(fmt(operating, 4)) (injection: detection rate; benign: FP rate)")
        printGroups(title: "source", key: { $0.sourceRepository }, examples: examples, scores: scores, threshold: operating)
        print("")
        printGroups(title: "category", key: { $0.category }, examples: examples, scores: scores, threshold: operating)

        print("")
        printLatency(detector: detector, examples: examples)
    }

    private func printGroups(
        title: String, key: (InjectionExample) -> String, examples: [InjectionExample], scores: [Double], threshold: Double
    ) {
        var groups: [String: (label: String, n: Int, flagged: Int)] = [:]
        for (example, score) in zip(examples, scores) {
            let k = key(example) + "\u{0}" + (example.isInjection ? "injection" : "benign")
            var g = groups[k] ?? (example.isInjection ? "injection" : "benign", 0, 0)
            g.n += 1
            if score >= threshold { g.flagged += 1 }
            groups[k] = g
        }
        let width = max(title.count, groups.keys.map { $0.split(separator: "\u{0}").first?.count ?? 0 }.max() ?? 0)
        print("  \(title.padding(toLength: width, withPad: " ", startingAt: 0))  label        n   rate")
        for k in groups.keys.sorted() {
            guard let g = groups[k] else { continue }
            let name = String(k.split(separator: "\u{0}").first ?? "")
            let rate = Double(g.flagged) / Double(max(g.n, 1))
            let label = g.label.padding(toLength: 9, withPad: " ", startingAt: 0)
            let count = String(g.n).leftPad(5)
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(label) \(count)  \(pct(rate).leftPad(7))")
        }
    }

    private func printLatency(detector: InjectionDetector, examples: [InjectionExample]) {
        let clock = ContinuousClock()
        func micros(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
        }
        // Warm-up.
        for example in examples.prefix(200) { _ = detector.scan(example.text) }
        var perPrompt: [Double] = []
        var totalBytes = 0
        var totalMicros = 0.0
        var sink = 0.0
        for _ in 0..<max(1, rounds) {
            for example in examples {
                let start = clock.now
                let scan = detector.scan(example.text)
                let elapsed = micros(clock.now - start)
                sink += scan.score
                perPrompt.append(elapsed)
                totalBytes += example.text.utf8.count
                totalMicros += elapsed
            }
        }
        // 1 KB prompts: each text repeated (space-separated) and cut to 1024 bytes on a scalar boundary.
        var perKB: [Double] = []
        var perKBCPU: [Double] = []
        var kbBytes = 0
        var kbMicros = 0.0
        for _ in 0..<max(1, rounds) {
            for example in examples {
                let prompt = Self.oneKilobyte(from: example.text)
                let cpuStart = Self.threadCPUMicros()
                let start = clock.now
                sink += detector.scan(prompt).score
                let elapsed = micros(clock.now - start)
                perKBCPU.append(Self.threadCPUMicros() - cpuStart)
                perKB.append(elapsed)
                kbBytes += prompt.utf8.count
                kbMicros += elapsed
            }
        }
        let meanBytes = totalBytes / max(perPrompt.count, 1)
        print("latency (one thread, \(max(1, rounds)) passes; checksum \(fmt(sink, 3))):")
        print(row("per prompt (mean \(meanBytes) B)",
            "p50 \(fmt(InjectionMetrics.quantile(perPrompt, 0.5), 1)) µs, p99 \(fmt(InjectionMetrics.quantile(perPrompt, 0.99), 1)) µs, "
            + "scan rate \(fmt(Double(totalBytes) / max(totalMicros, 1e-9), 1)) MB/s"))
        print(row("per 1 KB prompt",
            "p50 \(fmt(InjectionMetrics.quantile(perKB, 0.5), 1)) µs, p99 \(fmt(InjectionMetrics.quantile(perKB, 0.99), 1)) µs, "
            + "scan rate \(fmt(Double(kbBytes) / max(kbMicros, 1e-9), 1)) MB/s"))
        // Wall-clock figures include time the thread waited for a core; on a loaded machine the
        // thread's CPU time is the cost of the scan itself.
        let cpuTotal = perKBCPU.reduce(0, +)
        print(row("per 1 KB prompt, thread CPU time",
            "p50 \(fmt(InjectionMetrics.quantile(perKBCPU, 0.5), 1)) µs, p99 \(fmt(InjectionMetrics.quantile(perKBCPU, 0.99), 1)) µs, "
            + "scan rate \(fmt(Double(kbBytes) / max(cpuTotal, 1e-9), 1)) MB/s"))
    }

    /// This thread's CPU time in µs (CLOCK_THREAD_CPUTIME_ID).
    static func threadCPUMicros() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) * 1e6 + Double(spec.tv_nsec) / 1e3
    }

    static func oneKilobyte(from text: String) -> String {
        guard !text.isEmpty else { return String(repeating: " ", count: 1024) }
        var result = ""
        var bytes = 0
        outer: while true {
            for scalar in (text + " ").unicodeScalars {
                let size = String(scalar).utf8.count
                if bytes + size > 1024 { break outer }
                result.unicodeScalars.append(scalar)
                bytes += size
            }
        }
        return result
    }

    private func row(_ name: String, _ value: String) -> String {
        "  " + name.padding(toLength: 34, withPad: " ", startingAt: 0) + value
    }

    private func pct(_ value: Double) -> String { fmt(value * 100, 1) + " %" }

    private func fmt(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
