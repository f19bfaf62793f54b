import ArgumentParser
import CRawPingPong
import Foundation
import RampartChain
import RampartClient
import RampartCore
import RampartPluginHost
import RampartProto
import RampartThrottleCore

/// `rampart throttle`: tools for the throttle plugin.
struct ThrottleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throttle", abstract: "Throttle plugin tools: validate a config, measure the admission path.",
        subcommands: [ThrottleCheck.self, ThrottleStats.self, ThrottleBench.self])
}

/// `rampart throttle check`: validates a throttle config (JSON or TOML) the way the plugin does at start.
struct ThrottleCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a throttle plugin config (JSON or TOML) and print its limits.")

    @Argument(help: "The config file (the text of the plugin's `config` entry).") var file: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        let config: ThrottleConfig
        do {
            config = try ThrottleConfig.parse([UInt8](data))
        } catch {
            throw CLIError("\(file): \(error)")
        }
        print("mode \(config.mode.rawValue)" + (config.mode == .redis ? " (redis \(config.redis.socket ?? "\(config.redis.host):\(config.redis.port)"), fail mode \(config.redis.failMode.rawValue))" : ""))
        func show(_ name: String, _ set: LimitSet) {
            for scope in LimitScope.allCases {
                for (kind, limit) in [("requests", set[scope].requests), ("tokens", set[scope].tokens)] {
                    guard let limit else { continue }
                    print("  \(name) \(scope.rawValue) \(kind): \(limit.rate) per \(limit.periodMicros / 1000) ms, burst \(limit.burst)")
                }
            }
            if let cap = set.concurrency { print("  \(name) concurrency per key: \(cap)") }
        }
        show("default", config.defaults)
        for role in config.roles { show("role \(role.name)", role.limits) }
        if let pool = config.concurrency.pool {
            print("  pool: \(pool) streams, queue \(config.concurrency.queue.rawValue), max wait \(config.concurrency.maxWaitMicros / 1000) ms")
        }
    }
}

/// `rampart throttle stats`: the plugin's admin stats RPC (`rampart.v1.Throttle/Stats`).
struct ThrottleStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show the throttle plugin's counters and adjusted principals.")

    @OptionGroup var client: ClientOptions
    @Option(name: .long, help: "Only this principal (shown even at full limits).") var principal: String?
    @Option(name: .long, help: "At most this many adjusted principals (0 = all).") var limit: UInt32 = 0
    @Option(name: .long, help: "Metadata entries KEY=VALUE sent with the call (e.g. authorization=Bearer …).")
    var metadata: [String] = []

    func run() async throws {
        var request = Rampart_V1_ThrottleStatsRequest()
        request.principalID = principal ?? ""
        request.limit = limit
        let connection: RampartClient
        do {
            connection = try await RampartClient.connect(socketPath: client.socketPath, lz4: !client.noLz4)
        } catch {
            throw CLIError("cannot connect to \(client.socketPath): \(error)")
        }
        defer { Task { await connection.close() } }
        var headers: [String: String] = [:]
        for entry in metadata {
            guard let equals = entry.firstIndex(of: "=") else { throw CLIError("--metadata \(entry): expected KEY=VALUE") }
            headers[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        let stats: Rampart_V1_ThrottleStatsResponse
        do {
            stats = try await connection.unary("/rampart.v1.Throttle/Stats", request,
                                               options: CallOptions(timeout: .seconds(5), metadata: headers))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("mode \(stats.mode)" + (stats.mode == "redis" ? " (redis \(stats.redisHealthy ? "healthy" : "UNREACHABLE"), fail mode \(stats.failMode))" : ""))
        print("admitted \(stats.admitted), clamped \(stats.clamped), reserved tokens \(stats.reservedTokens), refunded tokens \(stats.refundedTokens)")
        print("denied " + (stats.denied.isEmpty ? "0" : stats.denied.map { "\($0.reason)=\($0.count)" }.joined(separator: " ")))
        print("queued \(stats.queuedAdmissions) (total wait \(stats.queueWaitUs / 1000) ms), waiting \(stats.waiting), pool in flight \(stats.poolInFlight), fallback admissions \(stats.fallbackAdmissions), abandoned \(stats.abandonedTickets)")
        for a in stats.adjustments {
            func f(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
            print("principal \(a.principalID) factor \(f(a.factor)) (ramp \(f(a.ramp)), age \(a.ageMs) ms; "
                  + "auth failures \(f(a.authFailures, 0)) → \(f(a.authPart)); denials \(f(a.denials, 1)) → \(f(a.denialPart)); "
                  + "risk \(f(a.risk, 2)) → \(f(a.riskPart)))")
        }
    }
}

/// `rampart throttle bench`: the cost of one admission + finish, local and Redis mode; with
/// `--plugin`, also through the plugin ABI (the whole hook as `rampart serve` runs it).
struct ThrottleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Latency of the throttle's admission path (admit + finish) in local and Redis mode.",
        discussion: """
            Core rows time Throttle.admit + Throttle.finish for requests rotating over --keys principals \
            with key, user and org limits on requests and tokens plus a per-key and a pool concurrency \
            cap (never reached). With --plugin <dir> (plugin.json + libRampartThrottle.so, loaded \
            unsigned: measurement only), the same config runs through the plugin ABI as the server \
            does for one call — begin, on_request (protobuf in, verdict out), on_stream_end — against \
            an empty chain measured in the same run. With --redis-port, Redis mode is measured too \
            (start one with `redis-server --port 6390 --save "" --appendonly no`).
            """)

    @Option(name: .long, help: "Measured iterations per row (local).") var iterations = 200_000
    @Option(name: .long, help: "Distinct principals (core rows).") var keys = 1000
    @Option(name: .long, help: "Also measure Redis mode against 127.0.0.1:<port>.") var redisPort: Int?
    @Option(name: .long, help: "Iterations per row in Redis mode.") var redisIterations = 20_000
    @Option(name: .long, help: "Throttle plugin directory: also measure through the plugin ABI.") var plugin: String?
    @Option(name: .long, help: "Prompt bytes (plugin rows).") var promptBytes = 1024
    @Option(name: .long, help: "Throttle config (JSON) for the local rows instead of the built-in one.") var config: String?
    @Option(name: .long, help: "A plugin directory measured first (e.g. examples/noop-plugin): rows then add the throttle behind it.")
    var baselinePlugin: String?

    static let limits = """
        "limits": {"key": {"requests": {"rate": 1000000, "period_ms": 1000, "burst": 100000000},
                           "tokens": {"rate": 1000000000, "period_ms": 1000000, "burst": 1000000000}},
                   "user": {"requests": {"rate": 1000000, "period_ms": 1000, "burst": 100000000}},
                   "org": {"tokens": {"rate": 1000000000, "period_ms": 1000000, "burst": 1000000000}}, "concurrency": 64},
        "concurrency": {"pool": 100000}
        """

    func run() throws {
        var modes = [("local", config ?? "{\(Self.limits)}", iterations)]
        if let redisPort {
            modes.append(("redis", #"{"mode": "redis", \#(Self.limits), "redis": {"port": \#(redisPort), "key_prefix": "bench:\#(getpid()):"}}"#,
                          redisIterations))
        }
        print("throttle admission path (core): admit + finish, \(keys) principals, key/user/org request and token limits, concurrency caps")
        print("mode     iterations   p50 µs   p99 µs   mean µs   admitted")
        for (label, json, count) in modes {
            try measureCore(label, config: try ThrottleConfig.parse(Array(json.utf8)), iterations: count)
        }
        guard let plugin else { return }
        print("")
        print("through the plugin ABI (\(promptBytes)-byte prompt, one key): begin + on_request + on_stream_end")
        print("mode     iterations   p50 µs   p99 µs   mean µs   added p50 µs   added p99 µs")
        let manifest = try PluginManifest.read(directory: plugin, plugin: "throttle")
        let loader = PluginLoader(cacheDirectory: "/tmp/rampart-throttle-bench-\(getpid())", trust: .unsignedDevelopment)
        let library = try loader.load(directory: plugin, library: manifest.library, name: manifest.name)
        let signals = SignalStore()
        var front: [ChainStage] = []
        if let baselinePlugin {
            let manifest = try PluginManifest.read(directory: baselinePlugin, plugin: "baseline")
            let first = try loader.load(directory: baselinePlugin, library: manifest.library, name: manifest.name)
            front.append(ChainStage(plugin: try NativePlugin(library: first, name: "baseline", config: [], signals: signals) { _, _ in }))
        }
        let baseline = try measureChain(front.isEmpty ? "none" : "baseline", try PluginChain(stages: front), iterations: iterations,
                                        baseline: nil)
        for (label, json, count) in modes {
            let native = try NativePlugin(library: library, name: "throttle", config: Array(json.utf8), signals: signals) { _, _ in }
            _ = try measureChain(label, try PluginChain(stages: front + [ChainStage(plugin: native)]), iterations: count,
                                 baseline: baseline)
        }
    }

    private func measureCore(_ label: String, config: ThrottleConfig, iterations: Int) throws {
        let throttle = Throttle(config: config)
        let principals = (0..<max(1, keys)).map {
            ThrottlePrincipal(id: "key-\($0)", user: "user-\($0 % 100)", org: "org-\($0 % 10)", scopes: ["user"], uid: 1000)
        }
        var admitted = 0
        let stats = time(iterations) { i in
            let request = AdmissionRequest(principal: principals[i % principals.count], promptTokens: 200, maxTokens: 128)
            let decision = throttle.admit(request)
            if case .admitted(let admission) = decision {
                throttle.finish(admission.ticket, StreamEnd(statusCode: 0, promptTokens: 200, completionTokens: 64))
                if i >= iterations / 10 { admitted += 1 }
            }
        }
        if admitted == 0, let denial = throttle.admit(AdmissionRequest(principal: principals[0])).denial {
            throw CLIError("\(label): every request was refused: \(denial.message)")
        }
        print(label.padding(toLength: 8, withPad: " ", startingAt: 0)
              + String(format: "%11d %8.2f %8.2f %9.2f   %d", iterations, stats.p50, stats.p99, stats.mean, admitted))
    }

    private func measureChain(_ label: String, _ chain: PluginChain, iterations: Int,
                              baseline: (p50: Double, p99: Double, mean: Double)?) throws -> (p50: Double, p99: Double, mean: Double) {
        var template = Rampart_V1_GenerateRequest()
        template.prompt = String(repeating: "a", count: promptBytes)
        template.params.maxTokens = 64
        let context = CallContext(requestID: "r-bench", method: "/rampart.v1.Inference/Generate", streamID: 1,
                                  peer: PeerCredentials(pid: 1, uid: 1000, gid: 1000))
        var usage = Rampart_V1_Usage()
        usage.promptTokens = 256
        usage.completionTokens = 2
        var failure: (any Error)?
        let stats = time(iterations) { _ in
            guard !chain.isEmpty, failure == nil else { return }
            let call = chain.begin(context)
            var request = template
            var metadata: [String: String] = [:]
            do {
                try call.onRequest(&request, metadata: &metadata)
            } catch {
                failure = error
            }
            call.end(finish: .stop, usage: usage, status: .ok, deliveredBytes: 6)
        }
        if let failure { throw CLIError("\(label): a request was refused: \(failure)") }
        var line = label.padding(toLength: 8, withPad: " ", startingAt: 0)
            + String(format: "%11d %8.2f %8.2f %9.2f", iterations, stats.p50, stats.p99, stats.mean)
        if let baseline { line += String(format: "   %12.2f   %12.2f", stats.p50 - baseline.p50, stats.p99 - baseline.p99) }
        print(line)
        return stats
    }

    /// Times `body` `iterations` times after a 10 % warm-up.
    private func time(_ iterations: Int, _ body: (Int) -> Void) -> (p50: Double, p99: Double, mean: Double) {
        let warmup = iterations / 10
        var samples = [Double](repeating: 0, count: iterations)
        for i in 0..<(iterations + warmup) {
            let start = DispatchTime.now().uptimeNanoseconds
            body(i)
            let end = DispatchTime.now().uptimeNanoseconds
            if i >= warmup { samples[i - warmup] = Double(end - start) / 1000 }
        }
        var p50 = 0.0, p99 = 0.0, mean = 0.0
        samples.withUnsafeMutableBufferPointer { rp_percentiles($0.baseAddress, $0.count, &p50, &p99, &mean) }
        return (p50, p99, mean)
    }
}
