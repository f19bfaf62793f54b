import ArgumentParser
import CRawPingPong
import Foundation
import RampartChain
import RampartCore
import RampartPluginHost
import RampartProto

/// `rampart bench chain`: what the plugin chain adds per request, per plugin, in one run.
struct ChainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain",
        abstract: "Cost of the plugin chain: a 1 KB request through N no-op plugins (N = 0, 1, 5).",
        discussion: """
            Loads the plugin directory N times (unsigned, for measurement only) and times, per \
            iteration, what the server does for one request: begin the call, run every request hook \
            (the PluginRequest is encoded once and handed to each plugin), pass one streamed chunk \
            through every chunk hook, end the call. N = 0 is the baseline measured in the same run.
            """)

    @Option(name: .long, help: "Plugin directory (plugin.json + library).") var plugin = "examples/noop-plugin"
    @Option(name: .long, parsing: .upToNextOption, help: "Chain lengths.") var counts: [Int] = [0, 1, 5]
    @Option(name: .long, help: "Iterations per chain length.") var iterations = 200_000
    @Option(name: .long, help: "Prompt bytes (a run of one letter; see --prompt-file for real text).") var promptBytes = 1024
    @Option(name: .long, help: "Use this file's text as the prompt instead (e.g. Benchmarks/prompts/support-1k.txt): content-aware plugins (the sanitizer) cost what they cost on real text.")
    var promptFile: String?
    @Option(name: .long, help: "Iterations per row for process-isolated plugins (0 skips them).") var isolatedIterations = 20_000
    @Option(name: .long, help: "Config bytes handed to each plugin's create() (e.g. the auth plugin's JSON).") var pluginConfig = ""
    @Option(name: .long, help: "Request metadata key=value sent with every request (repeatable), e.g. authorization=Bearer …")
    var metadata: [String] = []
    @Option(name: .long, help: ArgumentHelp(
        "Also measure one chain of different plugins, in order (repeatable): DIR or DIR=CONFIG_FILE.",
        discussion: "E.g. --stack .build/bench/auth=auth.json --stack .build/bench/throttle=throttle.json"))
    var stack: [String] = []
    @Option(name: .long, help: "Per-hook timeout in milliseconds (the stage policy's default is 100).") var timeoutMs = 100

    func run() throws {
        let manifest = try PluginManifest.read(directory: plugin, plugin: "bench")
        let loader = PluginLoader(cacheDirectory: "/tmp/rampart-bench-cache-\(getpid())", trust: .unsignedDevelopment)
        let library = try loader.load(directory: plugin, library: manifest.library, name: manifest.name)
        let signals = SignalStore()
        var template = Rampart_V1_GenerateRequest()
        if let promptFile {
            guard let text = FileManager.default.contents(atPath: promptFile).flatMap({ String(validating: $0, as: UTF8.self) }) else {
                throw CLIError("cannot read UTF-8 text from \(promptFile)")
            }
            template.prompt = text
        } else {
            template.prompt = String(repeating: "a", count: promptBytes)
        }
        template.params.maxTokens = 64
        let context = CallContext(requestID: "r-bench", method: "/rampart.v1.Inference/Generate", streamID: 1,
                                  peer: PeerCredentials(pid: 1, uid: 0, gid: 0))
        print("plugin \(library.info.name) \(library.info.version), \(template.prompt.utf8.count)-byte prompt\(promptFile.map { " (\($0))" } ?? ""), \(iterations) iterations per row (unsigned load: measurement only)")
        print("isolation  plugins   p50 µs   p99 µs   added p50 µs/plugin   added p99 µs/plugin   prompt MB/s per plugin (p50)")
        var baseline: (Double, Double)?
        let builder = ChainBuilder(loader: loader, signals: signals, holdBackBytes: 256) { _, _, _ in }
        var rows: [(label: String, count: Int, chain: PluginChain, iterations: Int)] = []
        for count in counts {
            var stages: [ChainStage] = []
            for i in 0..<count {
                let native = try NativePlugin(library: library, name: "noop-\(i)", config: Array(pluginConfig.utf8), signals: signals) { _, _ in }
                stages.append(ChainStage(plugin: native, policy: StagePolicy(timeout: .milliseconds(timeoutMs))))
            }
            rows.append(("in-process", count, try PluginChain(stages: stages), iterations))
        }
        if isolatedIterations > 0 {
            for count in counts where count > 0 {
                let specs = (0..<count).map {
                    PluginSpec(name: "noop-iso-\($0)", directory: plugin, config: Array(pluginConfig.utf8), isolated: true)
                }
                rows.append(("process", count, try builder.build(specs), isolatedIterations))
            }
        }
        if !stack.isEmpty {
            var stages: [ChainStage] = []
            var names: [String] = []
            for item in stack {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                let directory = parts[0]
                var config: [UInt8] = []
                if parts.count == 2 {
                    guard let data = FileManager.default.contents(atPath: parts[1]) else {
                        throw ValidationError("--stack: cannot read \(parts[1])")
                    }
                    config = Array(data)
                }
                let stackManifest = try PluginManifest.read(directory: directory, plugin: "bench")
                let stackLibrary = try loader.load(directory: directory, library: stackManifest.library, name: stackManifest.name)
                stages.append(ChainStage(
                    plugin: try NativePlugin(library: stackLibrary, name: stackManifest.name, config: config, signals: signals) { _, _ in },
                    policy: StagePolicy(timeout: .milliseconds(timeoutMs))))
                names.append(stackManifest.name)
            }
            print("stack: \(names.joined(separator: " → ")) (row \"stack\"; added µs/plugin = whole stack ÷ \(stages.count))")
            rows.append(("stack", stages.count, try PluginChain(stages: stages), iterations))
        }
        var requestMetadata: [String: String] = [:]
        for item in metadata {
            guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--metadata expects key=value") }
            requestMetadata[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        for (label, count, chain, iterations) in rows {
            var samples = [Double](repeating: 0, count: iterations)
            // A hook that fails (a plugin's refusal, or a hook past its timeout on a descheduled
            // VM) is counted and reported; the run stops only if every iteration fails.
            var failures = 0
            var firstFailure: RPCError?
            for i in 0..<(iterations + iterations / 10) {
                let start = DispatchTime.now().uptimeNanoseconds
                if !chain.isEmpty {
                    let call = chain.begin(context)
                    var request = template
                    var metadata = requestMetadata
                    do {
                        try call.onRequest(&request, metadata: &metadata)
                        _ = try call.filterChunk("token ")
                        call.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 6)
                    } catch {
                        failures += 1
                        if firstFailure == nil { firstFailure = error }
                        call.end(finish: .unspecified, usage: Rampart_V1_Usage(), status: error.code, deliveredBytes: 0)
                    }
                }
                let end = DispatchTime.now().uptimeNanoseconds
                if i >= iterations / 10 { samples[i - iterations / 10] = Double(end - start) / 1000 }
            }
            if let firstFailure {
                if failures == iterations + iterations / 10 { throw firstFailure }
                FileHandle.standardError.write(Data("\(label) \(count): \(failures) of \(iterations + iterations / 10) iterations failed (first: \(firstFailure)); their times are included\n".utf8))
            }
            var p50 = 0.0, p99 = 0.0, mean = 0.0
            samples.withUnsafeMutableBufferPointer { rp_percentiles($0.baseAddress, $0.count, &p50, &p99, &mean) }
            if baseline == nil { baseline = (p50, p99) }
            let added = count == 0 ? "-" : String(format: "%.2f", (p50 - (baseline?.0 ?? 0)) / Double(count))
            let added99 = count == 0 ? "-" : String(format: "%.2f", (p99 - (baseline?.1 ?? 0)) / Double(count))
            // The prompt's bytes over one plugin's added median: its scan rate on this text (a
            // content-aware plugin's throughput; meaningless for plugins that never read the prompt).
            let addedMicros = (p50 - (baseline?.0 ?? 0)) / Double(max(1, count))
            let rate = count == 0 || addedMicros <= 0 ? "-" : String(format: "%.1f", Double(template.prompt.utf8.count) / addedMicros)
            print(label.padding(toLength: 11, withPad: " ", startingAt: 0) + String(format: "%7d %8.2f %8.2f", count, p50, p99) + "   "
                  + added.padding(toLength: 20, withPad: " ", startingAt: 0) + "  " + added99.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + "  " + rate)
        }
    }
}
