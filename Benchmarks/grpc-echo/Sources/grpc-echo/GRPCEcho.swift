// grpc-echo: the grpc-swift-2 baseline of `rampart bench rpc`.
//
//   grpc-echo serve --socket PATH
//   grpc-echo bench --socket PATH --concurrency N --seconds S --warmup W --payload 1024
//
// `serve` answers one unary method, /rampart.bench.Echo/Echo, bytes in → the same bytes out.
// `bench` opens ONE client (one channel, HTTP/2 over the Unix socket), runs N callers that each do
// sequential unary calls, and prints one line of JSON with req/s and latency percentiles.
//
// The messages are raw `[UInt8]` with pass-through (de)serializers, so there is no protobuf and no
// protoc plugin in the measurement: what is measured is grpc-swift-2's RPC machinery and transport.

import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2Posix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - The method and its pass-through coding

let echoMethod = MethodDescriptor(
    fullyQualifiedService: "rampart.bench.Echo", method: "Echo", type: .unary)

struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

struct EchoService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: echoMethod,
            deserializer: RawBytesDeserializer(),
            serializer: RawBytesSerializer()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: single.message))
        }
    }
}

// MARK: - Time and statistics

/// Monotonic time in microseconds (CLOCK_MONOTONIC, like the C baseline).
@inline(__always)
func nowMicros() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

/// Percentiles exactly as `rp_percentiles` in Core/CRawPingPong/raw_pingpong.c computes them, so all
/// baselines agree: sort ascending; p50/p99 by nearest rank, the sample at index ceil(n·P/100) − 1
/// computed in integers as (n·P + 99) / 100 − 1, clamped to [0, n−1]; mean summed in ascending
/// order. (This package cannot link the C target of the root package.) Keep the two in step.
func percentiles(_ samples: inout [Double]) -> (p50: Double, p99: Double, mean: Double) {
    let n = samples.count
    guard n > 0 else { return (0, 0, 0) }
    samples.sort()
    func rank(_ percent: Int) -> Double {
        let r = min(max((n * percent + 99) / 100, 1), n)  // 1-based rank
        return samples[r - 1]
    }
    var sum = 0.0
    for s in samples { sum += s }
    return (rank(50), rank(99), sum / Double(n))
}

func formatNumber(_ x: Double, decimals: Int) -> String {
    guard x.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (x * scale).rounded() / scale
    // Avoid exponent notation for the values we print (µs, seconds, req/s).
    let whole = Int64(r.rounded(.towardZero))
    guard decimals > 0 else { return String(whole) }
    var frac = Int64(((abs(r) - Double(abs(whole))) * scale).rounded())
    var w = whole
    if frac >= Int64(scale) { frac -= Int64(scale); w += r < 0 ? -1 : 1 }
    var fracStr = String(frac)
    while fracStr.count < decimals { fracStr = "0" + fracStr }
    let sign = (r < 0 && w == 0) ? "-" : ""
    return "\(sign)\(w).\(fracStr)"
}

func writeStderr(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(2, buf.baseAddress! + off, buf.count - off)
            if n <= 0 { break }
            off += n
        }
    }
}

// MARK: - Commands

@main
struct GRPCEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-echo",
        abstract: "grpc-swift-2 unary echo over a Unix socket: the Swift RPC baseline of `rampart bench rpc`.",
        subcommands: [Serve.self, Bench.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the unary echo method on a Unix socket until killed.")

    @Option(help: "Path of the Unix socket to listen on (a stale file is removed).")
    var socket: String

    func run() async throws {
        unlink(socket)  // a stale socket file from an earlier run would make bind fail
        let transport = HTTP2ServerTransport.Posix(
            address: .unixDomainSocket(path: socket),
            transportSecurity: .plaintext
        )
        let server = GRPCServer(transport: transport, services: [EchoService()])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let address = try await transport.listeningAddress
            writeStderr("grpc-echo: listening on \(address)")
            try await group.next()
            group.cancelAll()
        }
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run N concurrent callers of unary echo over one shared client; print one JSON line.")

    @Option(help: "Path of the server's Unix socket.")
    var socket: String

    @Option(help: "Number of concurrent callers (each does sequential unary calls).")
    var concurrency: Int = 1

    @Option(help: "Measured duration in seconds.")
    var seconds: Double = 5

    @Option(help: "Warm-up duration in seconds (calls made, latencies discarded).")
    var warmup: Double = 1

    @Option(help: "Payload size in bytes.")
    var payload: Int = 1024

    @Option(help: "Seconds to wait for the server's socket to appear.")
    var connectTimeout: Double = 10

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be ≥ 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be > 0") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be ≥ 0") }
        guard payload >= 0 else { throw ValidationError("--payload must be ≥ 0") }
    }

    func run() async throws {
        // Wait for the server (it is usually spawned right before us).
        let deadline = nowMicros() + connectTimeout * 1e6
        while access(socket, F_OK) != 0 {
            if nowMicros() > deadline {
                throw ValidationError("socket \(socket) did not appear within \(connectTimeout) s")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }

        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: socket),
            transportSecurity: .plaintext
        )
        let client = GRPCClient(transport: transport)

        let message = [UInt8]((0..<payload).map { UInt8(truncatingIfNeeded: $0) })
        let payloadSize = payload
        let callers = concurrency
        let warmupSeconds = warmup
        let measureSeconds = seconds

        let result: (requests: Int, seconds: Double, samples: [Double]) =
            try await withThrowingTaskGroup(of: Void.self) { outer in
                outer.addTask { try await client.runConnections() }

                // One call first so that connection setup is not part of the warm-up clock.
                try await Bench.call(client, message, expect: payloadSize)

                let measureStart = nowMicros() + warmupSeconds * 1e6
                let measureEnd = measureStart + measureSeconds * 1e6

                let perCaller = try await withThrowingTaskGroup(
                    of: (samples: [Double], finished: Double).self
                ) { group in
                    for _ in 0..<callers {
                        group.addTask {
                            var samples: [Double] = []
                            samples.reserveCapacity(4096)
                            while true {
                                let t0 = nowMicros()
                                if t0 >= measureEnd { break }
                                try await Bench.call(client, message, expect: payloadSize)
                                let t1 = nowMicros()
                                if t0 >= measureStart { samples.append(t1 - t0) }
                            }
                            return (samples, nowMicros())
                        }
                    }
                    var all: [(samples: [Double], finished: Double)] = []
                    for try await r in group { all.append(r) }
                    return all
                }

                client.beginGracefulShutdown()
                try await outer.waitForAll()

                var merged: [Double] = []
                merged.reserveCapacity(perCaller.reduce(0) { $0 + $1.samples.count })
                var lastFinish = measureEnd
                for r in perCaller {
                    merged.append(contentsOf: r.samples)
                    lastFinish = max(lastFinish, r.finished)
                }
                return (merged.count, (lastFinish - measureStart) / 1e6, merged)
            }

        var samples = result.samples
        let stats = percentiles(&samples)
        let rps = result.seconds > 0 ? Double(result.requests) / result.seconds : 0
        print(
            "{\"impl\":\"grpc-swift-2\",\"concurrency\":\(callers),\"payload\":\(payloadSize),"
                + "\"requests\":\(result.requests),\"seconds\":\(formatNumber(result.seconds, decimals: 3)),"
                + "\"rps\":\(formatNumber(rps, decimals: 1)),\"p50_us\":\(formatNumber(stats.p50, decimals: 1)),"
                + "\"p99_us\":\(formatNumber(stats.p99, decimals: 1)),\"mean_us\":\(formatNumber(stats.mean, decimals: 1))}"
        )
    }

    static func call(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ message: [UInt8], expect: Int)
        async throws
    {
        let got = try await client.unary(
            request: ClientRequest(message: message),
            descriptor: echoMethod,
            serializer: RawBytesSerializer(),
            deserializer: RawBytesDeserializer(),
            options: .defaults
        ) { response in
            try response.message.count
        }
        guard got == expect else {
            throw RPCError(code: .dataLoss, message: "echo returned \(got) bytes, expected \(expect)")
        }
    }
}
