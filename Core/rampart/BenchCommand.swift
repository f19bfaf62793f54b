import ArgumentParser
import CRawPingPong
import Foundation
import NIOCore
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import RampartWire

/// `rampart bench`: measured numbers against baselines in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (RPC overhead against raw sockets and grpc-swift-2).",
        subcommands: [RPCBench.self, ChainBench.self, HandlerBench.self, RawServer.self, NIOEchoServer.self])
}

/// The raw C echo server of the floor measurement (run as a child process by `bench rpc`).
struct RawServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raw-server", abstract: "Raw C Unix-socket echo server (benchmark floor).", shouldDisplay: false)

    @Option(name: .long) var socket: String

    func run() throws {
        rp_raw_serve(socket)
        throw CLIError("raw server failed: \(String(cString: strerror(errno)))")
    }
}

/// One measured row.
struct BenchRow {
    var name: String
    var concurrency: Int
    var requests: UInt64
    var seconds: Double
    var p50: Double
    var p99: Double
    var rps: Double { seconds > 0 ? Double(requests) / seconds : 0 }
}

/// `rampart bench rpc`: raw C ping-pong vs Rampart unary echo vs grpc-swift-2, same payload, same run.
struct RPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Unary echo: raw C floor vs Rampart (null backend) vs grpc-swift-2, at each concurrency.",
        discussion: """
            Every server runs in its own child process; clients run in this process. Rampart is \
            measured with four clients: the raw floor's C client speaking the Rampart protocol \
            (same client cost as the floor: the server and the protocol are what differ), once \
            with one connection per caller and once with every call in flight on one connection \
            (cmux, the shape of grpc-swift-2's shared channel), the Swift blocking client (one \
            connection per caller) and the async Swift client (one shared connection, concurrent \
            streams). Processes inherit this one's CPU affinity; the table says how many CPUs it \
            allows. On a VM where waking another vCPU is dear, `taskset -c 0` shows the stacks \
            without that cost. \
            Build in release mode for meaningful numbers: scripts/bench.sh does it all.
            """)

    @Option(name: .long, help: "Measured seconds per row.") var seconds = 5.0
    @Option(name: .long, help: "Warm-up seconds per row.") var warmup = 1.0
    @Option(name: .long, help: "Payload bytes (raw frame; Rampart prompt; gRPC message).") var payload = 1024
    @Option(name: .long, parsing: .upToNextOption, help: "Concurrent connections/callers.") var concurrency: [Int] = [1, 16]
    @Option(name: .long, help: "Path to the grpc-echo binary (Benchmarks/grpc-echo); skipped when absent.") var grpcEcho: String?
    @Option(name: .long, help: "Also write the rows as JSON to this file.") var json: String?
    @Option(name: .long, help: "Measure an already running Rampart server at this socket instead of starting one.") var rampartSocket: String?

    @Option(name: .long, help: "Interleaved runs per row; the median (by req/s) is reported.") var repeats = 3
    @Option(name: .long, parsing: .upToNextOption,
            help: "Rows to measure (default all): raw, nio, cclient, cmux, blocking, async, async-loop, grpc.")
    var rows: [String] = RPCBench.rowKeys

    /// Row keys in the order rows are measured and printed.
    static let rowKeys = ["raw", "nio", "cclient", "cmux", "blocking", "async", "async-loop", "grpc"]

    func validate() throws {
        if let unknown = rows.first(where: { !Self.rowKeys.contains($0) }) {
            throw ValidationError("unknown row \"\(unknown)\"; rows are \(Self.rowKeys.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let directory = "/tmp/rampart-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

        // All servers run side by side, each in its own process; rows are measured interleaved
        // (raw, Rampart, gRPC, raw, …) so that every implementation sees the same machine state.
        let rawSocket = directory + "/raw.sock"
        let raw = try spawn(me, ["bench", "raw-server", "--socket", rawSocket])
        defer { stop(raw) }
        let nioSocket = directory + "/nio.sock"
        let nio = try spawn(me, ["bench", "nio-echo-server", "--socket", nioSocket])
        defer { stop(nio) }
        let rampartSocket = self.rampartSocket ?? directory + "/rampart.sock"
        let server = self.rampartSocket != nil ? nil
            : try spawn(me, ["serve", "--dev", "--run-dir", directory, "--backend", "null", "--log-level", "warning"])
        defer { if let server { stop(server) } }
        var grpcServer: Process?
        let grpcSocket = directory + "/grpc.sock"
        if let grpcEcho, FileManager.default.isExecutableFile(atPath: grpcEcho) {
            grpcServer = try spawn(grpcEcho, ["serve", "--socket", grpcSocket])
        } else {
            print("(grpc-swift-2 skipped: pass --grpc-echo PATH; scripts/bench.sh builds it)")
        }
        defer { if let grpcServer { stop(grpcServer) } }
        try waitForSocket(rawSocket)
        try waitForSocket(nioSocket)
        try waitForSocket(rampartSocket)
        if grpcServer != nil { try waitForSocket(grpcSocket) }

        var request = Rampart_V1_GenerateRequest()
        request.prompt = String(repeating: "x", count: payload)
        request.params.maxTokens = 2048
        let requestBytes: [UInt8] = try request.serializedBytes()

        var table: [BenchRow] = []
        for n in concurrency {
            var runs: [String: [BenchRow]] = [:]
            for _ in 0..<max(1, repeats) {
                for key in Self.rowKeys where rows.contains(key) {
                    let row: BenchRow
                    switch key {
                    case "raw":
                        var result = rp_bench_result()
                        guard rp_raw_bench(rawSocket, Int32(n), payload, seconds, warmup, &result) == 0 else {
                            throw CLIError("raw bench failed: \(String(cString: strerror(errno)))")
                        }
                        row = BenchRow(name: "raw C ping-pong", concurrency: n, requests: result.requests, seconds: result.seconds,
                                       p50: result.p50_us, p99: result.p99_us)
                    case "nio":
                        var result = rp_bench_result()
                        guard rp_raw_bench(nioSocket, Int32(n), payload, seconds, warmup, &result) == 0 else {
                            throw CLIError("NIO echo bench failed: \(String(cString: strerror(errno)))")
                        }
                        row = BenchRow(name: "SwiftNIO echo (no protocol)", concurrency: n, requests: result.requests,
                                       seconds: result.seconds, p50: result.p50_us, p99: result.p99_us)
                    case "cclient", "cmux":
                        // cclient: n connections, one call each; cmux: one connection, n calls in flight.
                        let mux = key == "cmux"
                        var result = rp_bench_result()
                        let framed = try callFrames(requestBytes)
                        let rc = framed.preface.withUnsafeBufferPointer { preface in
                            framed.call.withUnsafeBufferPointer { call in
                                var spec = rp_frame_request(
                                    preface: preface.baseAddress, preface_len: preface.count,
                                    request: call.baseAddress, request_len: call.count)
                                return rp_frame_bench(rampartSocket, mux ? 1 : Int32(n), mux ? Int32(n) : 1, &spec,
                                                      seconds, warmup, &result)
                            }
                        }
                        guard rc == 0 else {
                            throw CLIError("Rampart C-client bench failed: \(String(cString: strerror(errno)))")
                        }
                        row = BenchRow(name: mux ? Self.cmuxRow : Self.cclientRow, concurrency: n,
                                       requests: result.requests, seconds: result.seconds,
                                       p50: result.p50_us, p99: result.p99_us)
                    case "blocking":
                        row = try benchBlocking(socket: rampartSocket, connections: n, request: requestBytes)
                    case "async":
                        row = try await benchAsync(socket: rampartSocket, callers: n, request: request)
                    case "async-loop":
                        row = try await benchAsync(socket: rampartSocket, callers: n, request: request, onEventLoop: true)
                    default:  // "grpc"
                        guard let grpcEcho, grpcServer != nil else { continue }
                        row = try benchGRPC(grpcEcho, socket: grpcSocket, callers: n)
                    }
                    runs[key, default: []].append(row)
                    report(row)
                }
            }
            for key in Self.rowKeys {
                guard let all = runs[key], !all.isEmpty else { continue }
                table.append(all.sorted { $0.rps < $1.rps }[all.count / 2])
            }
        }
        printTable(table)
        if let json { try writeJSON(table, to: json) }
    }

    // MARK: measurements

    /// The client preface and one call's frames (HEADERS, MESSAGE) for the C client, encoded by
    /// the real encoder; the C side sets the stream ids.
    private func callFrames(_ request: [UInt8]) throws -> (preface: [UInt8], call: [UInt8]) {
        var preface = ByteBuffer()
        ClientPreface(acceptsLZ4: false).write(to: &preface)
        var headers = Rampart_V1_RequestHeaders()
        headers.method = InferenceMethods.generate
        var call = ByteBuffer()
        FrameEncoder.write(.headers, streamID: 1, payload: try headers.serializedBytes() as [UInt8], to: &call)
        FrameEncoder.write(.message, flags: .endStream, streamID: 1, payload: request, to: &call)
        return (Array(preface.readableBytesView), Array(call.readableBytesView))
    }

    private func benchBlocking(socket: String, connections: Int, request: [UInt8]) throws -> BenchRow {
        let samples = SampleSink(count: connections)
        let start = DispatchTime.now()
        let measureFrom = start.uptimeNanoseconds + UInt64(warmup * 1e9)
        let end = measureFrom + UInt64(seconds * 1e9)
        let group = DispatchGroup()
        let expected = payload  // read once: an @Option read per call is an ArgumentParser lookup
        for index in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    let connection = try BlockingConnection(socketPath: socket)
                    var local: [Double] = []
                    local.reserveCapacity(1 << 20)
                    var lastEnd: UInt64 = 0
                    while true {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        if t0 >= end { break }
                        let response = try connection.unary(InferenceMethods.generate, request: request)
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        precondition(response.readableBytes >= expected, "short echo")
                        if t0 >= measureFrom {
                            local.append(Double(t1 - t0) / 1000)
                            lastEnd = t1
                        }
                    }
                    samples.store(index, local, lastEnd: lastEnd)
                } catch {
                    samples.fail("\(error)")
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        return try samples.row(name: "Rampart (blocking client)", concurrency: connections, measureFrom: measureFrom)
    }

    static let asyncRow = "Rampart (async client, 1 conn)"
    static let cclientRow = "Rampart (C client)"
    static let cmuxRow = "Rampart (C client, 1 conn)"
    static let asyncLoopRow = "Rampart (async, on its loop)"

    /// The async client's row: `callers` tasks sharing one connection. With `onEventLoop` the tasks
    /// prefer the connection's event loop (``EventLoopTaskExecutor``): no thread hop per call.
    private func benchAsync(socket: String, callers: Int, request: Rampart_V1_GenerateRequest, onEventLoop: Bool = false) async throws -> BenchRow {
        let client = try await RampartClient.connect(socketPath: socket, lz4: false)
        defer { Task { await client.close() } }
        let start = DispatchTime.now().uptimeNanoseconds
        let measureFrom = start + UInt64(warmup * 1e9)
        let end = measureFrom + UInt64(seconds * 1e9)
        let results = try await withThrowingTaskGroup(of: ([Double], UInt64).self) { group in
            for _ in 0..<callers {
                group.addTask(executorPreference: onEventLoop ? client.taskExecutor : nil) {
                    var local: [Double] = []
                    var lastEnd: UInt64 = 0
                    while true {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        if t0 >= end { break }
                        _ = try await client.generate(request)
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        if t0 >= measureFrom {
                            local.append(Double(t1 - t0) / 1000)
                            lastEnd = t1
                        }
                    }
                    return (local, lastEnd)
                }
            }
            var all: [([Double], UInt64)] = []
            for try await r in group { all.append(r) }
            return all
        }
        let sink = SampleSink(count: results.count)
        for (i, r) in results.enumerated() { sink.store(i, r.0, lastEnd: r.1) }
        return try sink.row(name: onEventLoop ? Self.asyncLoopRow : Self.asyncRow, concurrency: callers, measureFrom: measureFrom)
    }

    private func benchGRPC(_ binary: String, socket: String, callers: Int) throws -> BenchRow {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["bench", "--socket", socket, "--concurrency", "\(callers)", "--seconds", "\(seconds)",
                             "--warmup", "\(warmup)", "--payload", "\(payload)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let requests = (object["requests"] as? NSNumber)?.uint64Value,
              let secs = (object["seconds"] as? NSNumber)?.doubleValue,
              let p50 = (object["p50_us"] as? NSNumber)?.doubleValue,
              let p99 = (object["p99_us"] as? NSNumber)?.doubleValue
        else {
            throw CLIError("grpc-echo bench printed no result: \(String(decoding: data, as: UTF8.self))")
        }
        return BenchRow(name: "grpc-swift-2", concurrency: callers, requests: requests, seconds: secs, p50: p50, p99: p99)
    }

    // MARK: output

    private func report(_ row: BenchRow) {
        FileHandle.standardError.write(Data(String(format: "  measured %@ ×%d: %.0f req/s\n", row.name, row.concurrency, row.rps).utf8))
    }

    private func printTable(_ rows: [BenchRow]) {
        print("")
        print("unary echo, \(payload)-byte payload, \(seconds)s per run (+\(warmup)s warm-up), median of \(max(1, repeats)) interleaved runs, servers in child processes")
        print("clients and servers may use \(ServerSettings.usableCPUs) CPU(s) (inherited affinity; "
            + "`taskset -c 0 rampart bench rpc …` pins them all to one; server.flush_every \"auto\" = "
            + "\(ServerSettings.automaticFlushEvery))")
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("implementation", 32) + String(format: "%5@ %12@ %10@ %10@", "conc", "req/s", "p50 µs", "p99 µs"))
        for row in rows {
            print(pad(row.name, 32) + String(format: "%5d %12.0f %10.1f %10.1f", row.concurrency, row.rps, row.p50, row.p99))
        }
        print("")
        for n in concurrency {
            let raw = rows.first { $0.name.hasPrefix("raw") && $0.concurrency == n }
            let nio = rows.first { $0.name.hasPrefix("SwiftNIO") && $0.concurrency == n }
            let cclient = rows.first { $0.name == Self.cclientRow && $0.concurrency == n }
            let cmux = rows.first { $0.name == Self.cmuxRow && $0.concurrency == n }
            let blocking = rows.first { $0.name.hasPrefix("Rampart (blocking") && $0.concurrency == n }
            let async = rows.first { $0.name == Self.asyncRow && $0.concurrency == n }
            let asyncLoop = rows.first { $0.name == Self.asyncLoopRow && $0.concurrency == n }
            let grpc = rows.first { $0.name == "grpc-swift-2" && $0.concurrency == n }
            var parts: [String] = []
            if let raw, let cclient { parts.append(String(format: "Rampart (C client) ÷ raw = %.2f", cclient.rps / raw.rps)) }
            if let raw, let blocking { parts.append(String(format: "Rampart (Swift blocking client) ÷ raw = %.2f", blocking.rps / raw.rps)) }
            if let nio, let raw { parts.append(String(format: "bare NIO ÷ raw = %.2f", nio.rps / raw.rps)) }
            if let nio, let cclient { parts.append(String(format: "Rampart (C client) ÷ bare NIO = %.2f", cclient.rps / nio.rps)) }
            if let grpc, let blocking { parts.append(String(format: "Rampart (blocking) ÷ grpc-swift-2 = %.1f", blocking.rps / grpc.rps)) }
            if let grpc, let cmux { parts.append(String(format: "Rampart (C client, 1 conn) ÷ grpc-swift-2 = %.1f", cmux.rps / grpc.rps)) }
            if let grpc, let async { parts.append(String(format: "Rampart async ÷ grpc-swift-2 = %.1f", async.rps / grpc.rps)) }
            if let grpc, let asyncLoop { parts.append(String(format: "Rampart async on its loop ÷ grpc-swift-2 = %.1f", asyncLoop.rps / grpc.rps)) }
            print("concurrency \(n): " + parts.joined(separator: ", "))
        }
    }

    private func writeJSON(_ rows: [BenchRow], to path: String) throws {
        let objects = rows.map { row -> [String: Any] in
            ["impl": row.name, "concurrency": row.concurrency, "requests": row.requests, "seconds": row.seconds,
             "rps": row.rps, "p50_us": row.p50, "p99_us": row.p99, "cpus": ServerSettings.usableCPUs]
        }
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    // MARK: processes

    private func spawn(_ path: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    private func waitForSocket(_ path: String) throws {
        for _ in 0..<500 {
            if FileManager.default.fileExists(atPath: path) { return }
            usleep(10_000)
        }
        throw CLIError("server did not create \(path) within 5 s")
    }
}

/// Collects per-thread latency samples and merges them into a row.
final class SampleSink: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [[Double]]
    private var ends: [UInt64]
    private var failure: String?

    init(count: Int) {
        samples = Array(repeating: [], count: count)
        ends = Array(repeating: 0, count: count)
    }

    func store(_ index: Int, _ values: [Double], lastEnd: UInt64) {
        lock.lock()
        samples[index] = values
        ends[index] = lastEnd
        lock.unlock()
    }

    func fail(_ message: String) {
        lock.lock()
        failure = message
        lock.unlock()
    }

    func row(name: String, concurrency: Int, measureFrom: UInt64) throws -> BenchRow {
        if let failure { throw CLIError("\(name): \(failure)") }
        var all = samples.flatMap { $0 }
        let window = Double((ends.max() ?? measureFrom) - measureFrom) / 1e9
        var p50 = 0.0, p99 = 0.0, mean = 0.0
        all.withUnsafeMutableBufferPointer { rp_percentiles($0.baseAddress, $0.count, &p50, &p99, &mean) }
        return BenchRow(name: name, concurrency: concurrency, requests: UInt64(all.count), seconds: window, p50: p50, p99: p99)
    }
}
