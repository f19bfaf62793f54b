import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import RampartCore
import RampartProto
@testable import RampartServer
import RampartWire
import XCTest

@testable import RampartClient

/// Answers to requests that arrive in one read leave in one flush (or one per `flushEvery`
/// answers); answers produced off the event loop are flushed at once.
final class WriteBatchingTests: XCTestCase {
    private var pool: NIOThreadPool!

    override func setUp() {
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    override func tearDown() {
        try? pool.syncShutdownGracefully()
    }

    private func openChannel(backend: any InferenceBackend = NullBackend(), flushEvery: Int = 0) throws -> EmbeddedChannel {
        var settings = ServerSettings(socketPath: "/unused")
        settings.lz4 = false
        settings.flushEvery = flushEvery
        let pipeline = ServerPipeline(
            settings: settings, backend: backend, pool: pool,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let channel = EmbeddedChannel()
        try pipeline.addHandlers(to: channel)
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/unused")).wait()
        var preface = ByteBuffer()
        ClientPreface(acceptsLZ4: false).write(to: &preface)
        try channel.writeInbound(preface)
        XCTAssertNotNil(try channel.readOutbound(as: ByteBuffer.self), "server preface")
        return channel
    }

    private func requests(streams: [UInt32], prompt: String) throws -> ByteBuffer {
        var headers = Rampart_V1_RequestHeaders()
        headers.method = InferenceMethods.generate
        var request = Rampart_V1_GenerateRequest()
        request.prompt = prompt
        var out = ByteBuffer()
        for id in streams {
            try FrameEncoder.writeMessage(headers, type: .headers, streamID: id, to: &out)
            try FrameEncoder.writeMessage(request, flags: .endStream, streamID: id, to: &out)
        }
        return out
    }

    /// Frames flushed so far, in order.
    private func flushedFrames(_ channel: EmbeddedChannel) throws -> [Frame] {
        let decoder = FrameDecoder(maxFrameSize: 1 << 20)
        var frames: [Frame] = []
        while var out = try channel.readOutbound(as: ByteBuffer.self) {
            while let frame = try decoder.next(from: &out) { frames.append(frame) }
            XCTAssertEqual(out.readableBytes, 0, "no partial frame")
        }
        return frames
    }

    func testAnswersToOneReadWaitForTheEndOfTheReadBatch() throws {
        let channel = try openChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.fireChannelRead(NIOAny(requests(streams: [1, 3, 5], prompt: "hello there")))
        XCTAssertEqual(try flushedFrames(channel).count, 0, "nothing is flushed while the read batch is open")

        channel.pipeline.syncOperations.fireChannelReadComplete()
        let frames = try flushedFrames(channel)
        XCTAssertEqual(frames.map(\.header.streamID), [1, 1, 3, 3, 5, 5])
        XCTAssertEqual(frames.map(\.header.type), [.message, .trailers, .message, .trailers, .message, .trailers])
        for frame in frames where frame.header.type == .message {
            XCTAssertEqual(try Rampart_V1_GenerateResponse(serializedBytes: frame.payload).text, "hello there")
        }
        for frame in frames where frame.header.type == .trailers {
            XCTAssertEqual(TrailersFastPath.peekCode(frame.payload), .ok)
        }
    }

    func testWithFlushEveryTheAnswersLeaveInGroupsDuringTheReadBatch() throws {
        let channel = try openChannel(flushEvery: 2)
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.fireChannelRead(
            NIOAny(requests(streams: [1, 3, 5, 7, 9], prompt: "hello there")))
        // Five answers: two flushes of two while the batch is open, the fifth waits for its end.
        XCTAssertEqual(try flushedFrames(channel).map(\.header.streamID), [1, 1, 3, 3, 5, 5, 7, 7])
        channel.pipeline.syncOperations.fireChannelReadComplete()
        XCTAssertEqual(try flushedFrames(channel).map(\.header.streamID), [9, 9])

        // The count starts again with the next read.
        try channel.pipeline.syncOperations.fireChannelRead(NIOAny(requests(streams: [11], prompt: "again")))
        XCTAssertEqual(try flushedFrames(channel).count, 0, "one answer of two: not flushed yet")
        channel.pipeline.syncOperations.fireChannelReadComplete()
        XCTAssertEqual(try flushedFrames(channel).map(\.header.streamID), [11, 11])
    }

    func testFlushEveryOneFlushesEachAnswer() throws {
        let channel = try openChannel(flushEvery: 1)
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.fireChannelRead(NIOAny(requests(streams: [1, 3], prompt: "x")))
        XCTAssertEqual(try flushedFrames(channel).map(\.header.streamID), [1, 1, 3, 3])
    }

    func testAutomaticFlushEveryFollowsTheUsableCPUs() {
        XCTAssertGreaterThanOrEqual(ServerSettings.usableCPUs, 1)
        XCTAssertEqual(ServerSettings.automaticFlushEvery, ServerSettings.usableCPUs >= 2 ? 2 : 0)
        XCTAssertEqual(ServerSettings(socketPath: "/x").flushEvery, ServerSettings.automaticFlushEvery)
    }

    func testErrorsDuringAReadBatchAreFlushedToo() throws {
        let channel = try openChannel()
        defer { _ = try? channel.finish() }
        var headers = Rampart_V1_RequestHeaders()
        headers.method = "/rampart.v1.Nope/Nothing"
        var input = ByteBuffer()
        try FrameEncoder.writeMessage(headers, type: .headers, streamID: 1, to: &input)
        try channel.writeInbound(input)
        let frames = try flushedFrames(channel)
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(try Rampart_V1_Trailers(serializedBytes: frames[0].payload).status, .unimplemented)
    }

    func testAProtocolErrorInsideAReadBatchStillSendsGoAwayBeforeClosing() throws {
        let channel = try openChannel()
        // A good request, then a frame of an unknown type, in one read: the answer to the first
        // and the GOAWAY must both reach the wire before the connection closes.
        var input = try requests(streams: [1], prompt: "fine")
        input.writeBytes([0, 0, 0, 0, 0x7f, 0, 0, 0, 0, 0, 0, 0])
        try channel.writeInbound(input)
        let frames = try flushedFrames(channel)
        XCTAssertEqual(frames.map(\.header.type), [.message, .trailers, .goAway])
        XCTAssertFalse(channel.isActive)
    }

    func testAnswersFromTheWorkerPoolAreFlushedWithoutARead() throws {
        let channel = try openChannel(backend: SlowBackend(tokens: 2, delay: .milliseconds(1)))
        defer { _ = try? channel.finish() }
        try channel.writeInbound(requests(streams: [1], prompt: "p"))
        var frames: [Frame] = []
        let done = eventually {
            // The worker hands its frames to the (embedded) loop; run them.
            channel.embeddedEventLoop.run()
            frames += (try? flushedFrames(channel)) ?? []
            return frames.last?.header.type == .trailers
        }
        XCTAssertTrue(done, "the answer was never flushed")
        XCTAssertEqual(frames.map(\.header.type), [.message, .trailers])
    }

    func testEveryOKTrailerCarriesTheRequestID() throws {
        let channel = try openChannel()
        defer { _ = try? channel.finish() }
        var input = try requests(streams: [1], prompt: "hi")
        var headers = Rampart_V1_RequestHeaders()
        headers.method = "/rampart.v1.Health/Check"
        try FrameEncoder.writeMessage(headers, type: .headers, streamID: 3, to: &input)
        try FrameEncoder.writeMessage(Rampart_V1_HealthCheckRequest(), flags: .endStream, streamID: 3, to: &input)
        try channel.writeInbound(input)
        let trailers = try flushedFrames(channel).filter { $0.header.type == .trailers }
        XCTAssertEqual(trailers.map(\.header.streamID), [1, 3])
        var ids: Set<String> = []
        for frame in trailers {
            let decoded = try Rampart_V1_Trailers(serializedBytes: frame.payload)
            XCTAssertEqual(decoded.status, .ok)
            let id = try XCTUnwrap(decoded.textMetadata["rampart-request-id"], "stream \(frame.header.streamID)")
            XCTAssertFalse(id.isEmpty)
            ids.insert(id)
        }
        XCTAssertEqual(ids.count, 2, "one id per call")
    }

    func testTheHandlerIsFreedWhenItsConnectionClosesWithTimersAndStreamsPending() throws {
        weak var handler: ConnectionHandler?
        try {
            let channel = try openChannel()
            handler = try channel.pipeline.syncOperations.handler(type: ConnectionHandler.self)
            var headers = Rampart_V1_RequestHeaders()
            headers.method = InferenceMethods.generate
            headers.timeoutUs = 60_000_000  // a deadline timer, and the idle timer, both pending
            var input = ByteBuffer()
            try FrameEncoder.writeMessage(headers, type: .headers, streamID: 1, to: &input)
            input.writeBytes([0, 0])  // half a frame header: the read timer is armed too
            try channel.writeInbound(input)
            XCTAssertNotNil(handler)
            try channel.close().wait()
            channel.embeddedEventLoop.run()
        }()
        XCTAssertNil(handler, "the timers' strong references ended with the connection")
    }

    func testPendingStartsScheduleOneDrainAndKeepOrder() {
        let pending = PendingStarts()
        let calls = (0..<3).map { _ in ClientCall { _ in } }
        XCTAssertTrue(pending.append(.init(call: calls[0], headers: .init(), payload: ByteBuffer())))
        XCTAssertFalse(pending.append(.init(call: calls[1], headers: .init(), payload: ByteBuffer())))
        XCTAssertFalse(pending.append(.init(call: calls[2], headers: .init(), payload: ByteBuffer())))
        let taken = pending.take()
        XCTAssertEqual(taken.count, 3)
        for (start, call) in zip(taken, calls) { XCTAssertTrue(start.call === call) }
        XCTAssertTrue(pending.take().isEmpty)
        XCTAssertTrue(pending.append(.init(call: calls[0], headers: .init(), payload: ByteBuffer())), "empty again: the next caller schedules")
    }
}
