import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import RampartWire

/// `rampart bench handler`: the server's per-request CPU cost with no I/O at all.
///
/// Drives the real server pipeline (``ServerPipeline``: frame decoding, dispatch, the null
/// backend, response and trailers encoding) on an `EmbeddedChannel`, against the bare NIO echo
/// handler of `bench rpc` on the same kind of channel. No sockets, no scheduler: the difference
/// is what Rampart's protocol and services cost per unary call, the part of `bench rpc`'s gap to
/// the floor that is Rampart's own code.
struct HandlerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handler",
        abstract: "Per-request CPU of the server pipeline without I/O (EmbeddedChannel), against a bare NIO echo handler.")

    @Option(name: .long, help: "Requests per run.") var iterations = 200_000
    @Option(name: .long, help: "Runs per row; the fastest is reported.") var repeats = 5
    @Option(name: .long, help: "Prompt bytes (the echo row echoes a frame of this size).") var payload = 1024

    func run() throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        var settings = ServerSettings(socketPath: "/unused")
        settings.lz4 = false
        let pipeline = ServerPipeline(
            settings: settings, backend: NullBackend(), pool: pool, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))

        var request = Rampart_V1_GenerateRequest()
        request.prompt = String(repeating: "x", count: payload)
        request.params.maxTokens = 2048
        let body: [UInt8] = try request.serializedBytes()
        var headers = Rampart_V1_RequestHeaders()
        headers.method = InferenceMethods.generate
        let headerBytes: [UInt8] = try headers.serializedBytes()

        var echoFrame = ByteBuffer()
        echoFrame.writeInteger(UInt32(payload))
        echoFrame.writeRepeatingByte(0x78, count: payload)

        print("server pipeline on an EmbeddedChannel, \(payload)-byte prompt, \(iterations) requests per run, best of \(repeats)")
        var rampartBest = Double.infinity, echoBest = Double.infinity
        for _ in 0..<max(1, repeats) {
            echoBest = min(echoBest, try measureEcho(frame: echoFrame))
            rampartBest = min(rampartBest, try measureRampart(pipeline, headers: headerBytes, body: body))
        }
        print(String(format: "  bare NIO echo handler      %8.0f ns/request", echoBest))
        print(String(format: "  Rampart unary (null)       %8.0f ns/request", rampartBest))
        print(String(format: "  Rampart's own cost         %8.0f ns/request", rampartBest - echoBest))
    }

    private func measureEcho(frame: ByteBuffer) throws -> Double {
        let channel = EmbeddedChannel(handler: NIOEchoServer.EchoHandler())
        defer { _ = try? channel.finish() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            try channel.writeInbound(frame)
            guard try channel.readOutbound(as: ByteBuffer.self) != nil else { throw CLIError("echo handler answered nothing") }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
    }

    private func measureRampart(_ pipeline: ServerPipeline, headers: [UInt8], body: [UInt8]) throws -> Double {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try pipeline.addHandlers(to: channel)
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/unused")).wait()
        var preface = ByteBuffer()
        ClientPreface(acceptsLZ4: false).write(to: &preface)
        try channel.writeInbound(preface)
        guard try channel.readOutbound(as: ByteBuffer.self) != nil else { throw CLIError("no server preface") }

        var input = ByteBuffer()
        input.reserveCapacity(headers.count + body.count + 64)
        let decoder = FrameDecoder(maxFrameSize: 64 << 20)
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<iterations {
            let id = UInt32(2 * i + 1)
            input.clear()
            FrameEncoder.write(.headers, streamID: id, payload: headers, to: &input)
            FrameEncoder.write(.message, flags: .endStream, streamID: id, payload: body, to: &input)
            try channel.writeInbound(input)
            var done = false
            while !done, var out = try channel.readOutbound(as: ByteBuffer.self) {
                while let frame = try decoder.next(from: &out) {
                    if frame.header.type == .trailers {
                        guard TrailersFastPath.peekCode(frame.payload) == .ok else { throw CLIError("call failed") }
                        done = true
                    }
                }
            }
            guard done else { throw CLIError("no trailers for stream \(id)") }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
    }
}
