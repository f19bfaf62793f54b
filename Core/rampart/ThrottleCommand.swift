import ArgumentParser
import CRawPingPong
import Foundation
import RampartClient
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

/// `rampart throttle bench`: the cost of one admission + finish, in this process, local and Redis mode.
struct ThrottleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Latency of the throttle's admission path (admit + finish) in local and Redis mode.",
        discussion: """
            Times Throttle.admit + Throttle.finish for requests rotating over --keys principals with key, \
            user and org limits on requests and tokens plus a per-key and a pool concurrency cap (never \
            reached). The plugin's ABI cost (protobuf decode, verdict encode) is not included: \
            `rampart bench chain --plugin <throttle dir>` measures the whole hook. With --redis-port, \
            the same is measured against that Redis (start one with \
            `redis-server --port 6390 --save "" --appendonly no`).
            """)

    @Option(name: .long, help: "Measured iterations per mode.") var iterations = 200_000
    @Option(name: .long, help: "Distinct principals.") var keys = 1000
    @Option(name: .long, help: "Also measure Redis mode against 127.0.0.1:<port>.") var redisPort: Int?
    @Option(name: .long, help: "Iterations in Redis mode.") var redisIterations = 20_000

    func run() throws {
        let limits = """
            "limits": {"key": {"requests": {"rate": 1000000, "period_ms": 1000}, "tokens": {"rate": 100000000, "period_ms": 100000}},
                       "user": {"requests": {"rate": 1000000, "period_ms": 1000}},
                       "org": {"tokens": {"rate": 100000000, "period_ms": 100000}}, "concurrency": 64},
            "concurrency": {"pool": 100000}
            """
        print("throttle admission path: admit + finish, \(keys) principals, key/user/org request and token limits, concurrency caps")
        print("mode     iterations   p50 µs   p99 µs   mean µs   admitted")
        try measure("local", config: try ThrottleConfig.parse(Array("{\(limits)}".utf8)), iterations: iterations)
        if let redisPort {
            let json = #"{"mode": "redis", \#(limits), "redis": {"port": \#(redisPort), "key_prefix": "bench:\#(getpid()):"}}"#
            try measure("redis", config: try ThrottleConfig.parse(Array(json.utf8)), iterations: redisIterations)
        }
    }

    private func measure(_ label: String, config: ThrottleConfig, iterations: Int) throws {
        let throttle = Throttle(config: config)
        let principals = (0..<max(1, keys)).map {
            ThrottlePrincipal(id: "key-\($0)", user: "user-\($0 % 100)", org: "org-\($0 % 10)", scopes: ["user"], uid: 1000)
        }
        let warmup = iterations / 10
        var samples = [Double](repeating: 0, count: iterations)
        var admitted = 0
        for i in 0..<(iterations + warmup) {
            let request = AdmissionRequest(principal: principals[i % principals.count], promptTokens: 200, maxTokens: 128)
            let start = DispatchTime.now().uptimeNanoseconds
            let decision = throttle.admit(request)
            if case .admitted(let admission) = decision {
                throttle.finish(admission.ticket, StreamEnd(statusCode: 0, promptTokens: 200, completionTokens: 64))
            }
            let end = DispatchTime.now().uptimeNanoseconds
            if i >= warmup {
                samples[i - warmup] = Double(end - start) / 1000
                if decision.admission != nil { admitted += 1 }
            }
        }
        if admitted == 0, let denial = throttle.admit(AdmissionRequest(principal: principals[0])).denial {
            throw CLIError("\(label): every request was refused: \(denial.message)")
        }
        var p50 = 0.0, p99 = 0.0, mean = 0.0
        samples.withUnsafeMutableBufferPointer { rp_percentiles($0.baseAddress, $0.count, &p50, &p99, &mean) }
        print(label.padding(toLength: 8, withPad: " ", startingAt: 0)
              + String(format: "%11d %8.2f %8.2f %9.2f   %d", iterations, p50, p99, mean, admitted))
    }
}
