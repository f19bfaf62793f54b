import NIOCore
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import RampartWire
import XCTest

/// Every malformed input of the wire protocol gets its exact status, affects only its own
/// stream or connection, and the server keeps serving others.
final class ProtocolErrorTests: XCTestCase {
    var server: RampartServer!
    var settings: ServerSettings!

    override func setUp() async throws {
        settings = testSettings()
        settings.maxFrameSize = 64 * 1024
        settings.maxConcurrentStreams = 4
        settings.readTimeoutMillis = 300
        server = try startServer(settings)
    }

    override func tearDown() async throws {
        await server.shutdown()
    }

    /// After each bad input, a fresh connection still works.
    func assertServerStillServes(file: StaticString = #filePath, line: UInt = #line) throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 1, RawConnection.generateRequest("still alive")))
        let frame = try raw.readFrame { $0.header.type == .message }
        let response = try Rampart_V1_GenerateResponse(serializedBytes: frame.payload)
        XCTAssertEqual(response.text, "still alive", file: file, line: line)
        XCTAssertEqual(try raw.readTrailers(stream: 1).status, .ok, file: file, line: line)
    }

    func testOversizedFrameGetsResourceExhaustedThenClose() throws {
        let bystander = try RawConnection(path: settings.socketPath)
        try bystander.handshake()
        try bystander.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))

        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        var header = ByteBuffer()
        FrameEncoder.writeHeader(.message, flags: .endStream, streamID: 1, length: 64 * 1024 + 1, to: &header)
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(header)
        let trailers = try raw.readTrailers(stream: 1)
        XCTAssertEqual(trailers.status, .resourceExhausted)
        XCTAssertTrue(trailers.message.contains("max_frame_size"), trailers.message)
        XCTAssertEqual(try raw.readGoAway().code, StatusCode.resourceExhausted.rawValue)
        XCTAssertTrue(raw.isClosedByPeer())

        // The other connection's open stream is unaffected.
        try bystander.send(RawConnection.message(stream: 1, RawConnection.generateRequest("bystander")))
        XCTAssertEqual(try bystander.readTrailers(stream: 1).status, .ok)
        try assertServerStillServes()
    }

    func testTruncatedFrameThenCloseDoesNotDisturbServer() throws {
        do {
            let raw = try RawConnection(path: settings.socketPath)
            try raw.handshake()
            let full = RawConnection.headers(stream: 1, method: InferenceMethods.generate)
            try raw.send(Array(full.readableBytesView.prefix(7)))
        }  // closed mid-frame
        do {
            let raw = try RawConnection(path: settings.socketPath)
            try raw.handshake()
            var frame = RawConnection.message(stream: 1, RawConnection.generateRequest("cut"))
            try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
            frame.moveWriterIndex(to: frame.writerIndex - 3)
            try raw.send(frame)
        }  // closed mid-payload
        XCTAssertTrue(eventually { self.server.metrics.connections == 0 && self.server.metrics.streams == 0 })
        try assertServerStillServes()
    }

    func testWrongPrefaceMagic() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        let preface = try raw.readServerPreface()
        XCTAssertEqual(preface.version, 0)
        let goAway = try raw.readGoAway()
        XCTAssertEqual(goAway.code, StatusCode.invalidArgument.rawValue)
        XCTAssertTrue(goAway.message.contains("magic"), goAway.message)
        XCTAssertTrue(raw.isClosedByPeer())
        try assertServerStillServes()
    }

    func testUnsupportedVersion() throws {
        let raw = try RawConnection(path: settings.socketPath)
        var out = ByteBuffer()
        ClientPreface(minVersion: 2, maxVersion: 7, acceptsLZ4: false).write(to: &out)
        try raw.send(out)
        XCTAssertEqual(try raw.readServerPreface().version, 0)
        let goAway = try raw.readGoAway()
        XCTAssertEqual(goAway.code, StatusCode.unimplemented.rawValue)
        XCTAssertTrue(goAway.message.contains("2...7"), goAway.message)
        XCTAssertTrue(raw.isClosedByPeer())
    }

    func testUnknownFrameType() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send([0, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 1])
        let goAway = try raw.readGoAway()
        XCTAssertEqual(goAway.code, StatusCode.invalidArgument.rawValue)
        XCTAssertTrue(goAway.message.contains("unknown frame type 0x9"), goAway.message)
        XCTAssertTrue(raw.isClosedByPeer())
        try assertServerStillServes()
    }

    func testReservedBitsAndDecreasingStreamIDsAreProtocolErrors() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send([0, 0, 0, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(try raw.readGoAway().code, StatusCode.invalidArgument.rawValue)

        let second = try RawConnection(path: settings.socketPath)
        try second.handshake()
        try second.send(RawConnection.headers(stream: 5, method: InferenceMethods.generate))
        try second.send(RawConnection.headers(stream: 3, method: InferenceMethods.generate))
        let goAway = try second.readGoAway()
        XCTAssertEqual(goAway.code, StatusCode.invalidArgument.rawValue)
        XCTAssertEqual(goAway.lastStreamID, 5)
    }

    func testMalformedProtobufIsInvalidArgument() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 1, [0x12, 0x7f, 0x41]))  // length 127, 1 byte present
        let trailers = try raw.readTrailers(stream: 1)
        XCTAssertEqual(trailers.status, .invalidArgument)
        XCTAssertTrue(trailers.message.contains("malformed"), trailers.message)
        // Malformed headers too, on the same connection (stream-level only).
        var bad = ByteBuffer()
        FrameEncoder.write(.headers, streamID: 3, payload: [0x0a, 0x05, 0x2f], to: &bad)
        try raw.send(bad)
        XCTAssertEqual(try raw.readTrailers(stream: 3).status, .invalidArgument)
        try raw.send(RawConnection.headers(stream: 5, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 5, RawConnection.generateRequest("ok")))
        XCTAssertEqual(try raw.readTrailers(stream: 5).status, .ok)
    }

    func testUnknownMethodIsUnimplemented() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: "/rampart.v1.Inference/Nope"))
        try raw.send(RawConnection.message(stream: 1, []))
        let trailers = try raw.readTrailers(stream: 1)
        XCTAssertEqual(trailers.status, .unimplemented)
        XCTAssertTrue(trailers.message.contains("/rampart.v1.Inference/Nope"))
        try raw.send(RawConnection.headers(stream: 3, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 3, RawConnection.generateRequest("next")))
        XCTAssertEqual(try raw.readTrailers(stream: 3).status, .ok)
    }

    func testInvalidUTF8IsInvalidArgument() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 1, [0x12, 0x03, 0x61, 0xff, 0xfe]))  // prompt = "a\xff\xfe"
        let trailers = try raw.readTrailers(stream: 1)
        XCTAssertEqual(trailers.status, .invalidArgument)
        XCTAssertTrue(trailers.message.contains("UTF-8"), trailers.message)
    }

    func testCorruptLZ4IsInvalidArgument() throws {
        let raw = try RawConnection(path: settings.socketPath)
        XCTAssertTrue(try raw.handshake(lz4: true).lz4Enabled)
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 1, [0, 0, 4, 0, 0xff, 0xff, 0xff, 0x00, 0x13], flags: [.endStream, .compressed]))
        let trailers = try raw.readTrailers(stream: 1)
        XCTAssertEqual(trailers.status, .invalidArgument)
        XCTAssertTrue(trailers.message.contains("LZ4"), trailers.message)
        // COMPRESSED without negotiated LZ4 is refused as well.
        let plain = try RawConnection(path: settings.socketPath)
        try plain.handshake(lz4: false)
        try plain.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try plain.send(RawConnection.message(stream: 1, [0, 0, 0, 1, 0x10, 0x41], flags: [.endStream, .compressed]))
        XCTAssertEqual(try plain.readTrailers(stream: 1).status, .invalidArgument)
    }

    func testStreamsBeyondTheCapGetResourceExhaustedOnlyForTheExtraStream() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        for id in stride(from: UInt32(1), through: 7, by: 2) {  // 4 open streams = the cap
            try raw.send(RawConnection.headers(stream: id, method: InferenceMethods.generate))
        }
        try raw.send(RawConnection.headers(stream: 9, method: InferenceMethods.generate))
        let refused = try raw.readTrailers(stream: 9)
        XCTAssertEqual(refused.status, .resourceExhausted)
        XCTAssertTrue(refused.message.contains("max_concurrent_streams = 4"), refused.message)
        for id in stride(from: UInt32(1), through: 7, by: 2) {
            try raw.send(RawConnection.message(stream: id, RawConnection.generateRequest("s\(id)")))
            XCTAssertEqual(try raw.readTrailers(stream: id).status, .ok)
        }
        // Room again once streams finished.
        try raw.send(RawConnection.headers(stream: 11, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 11, RawConnection.generateRequest("again")))
        XCTAssertEqual(try raw.readTrailers(stream: 11).status, .ok)
    }

    func testSlowlorisIsDroppedAfterTheReadTimeout() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        let frame = RawConnection.headers(stream: 1, method: InferenceMethods.generate)
        try raw.send(Array(frame.readableBytesView.prefix(5)))  // half a header, then stall
        let start = ContinuousClock.now
        let goAway = try raw.readGoAway()
        XCTAssertEqual(goAway.code, StatusCode.deadlineExceeded.rawValue)
        XCTAssertTrue(goAway.message.contains("read timeout"), goAway.message)
        XCTAssertTrue(raw.isClosedByPeer())
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(200))
        // A stalled preface is dropped too.
        let silent = try RawConnection(path: settings.socketPath)
        try silent.send(Array(Wire.magic.prefix(3)))
        XCTAssertEqual(try silent.readServerPreface().version, 0)
        XCTAssertEqual(try silent.readGoAway().code, StatusCode.deadlineExceeded.rawValue)
        try assertServerStillServes()
    }

    func testDeadlineAlreadyExpiredOnArrival() async throws {
        await server.shutdown()
        let backend = SlowBackend()
        server = try startServer(settings, backend: backend)
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate, timeoutUs: 1))
        try await Task.sleep(for: .milliseconds(20))
        try raw.send(RawConnection.message(stream: 1, RawConnection.generateRequest("late")))
        let trailers = try raw.readTrailers(stream: 1)
        XCTAssertEqual(trailers.status, .deadlineExceeded)
        XCTAssertEqual(backend.calls.load(ordering: .relaxed), 0, "the backend must not run for an expired call")
    }

    func testRequestWithoutEndStreamOrWithTwoMessages() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate, flags: .endStream))
        XCTAssertEqual(try raw.readTrailers(stream: 1).status, .invalidArgument)
        try raw.send(RawConnection.headers(stream: 3, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 3, RawConnection.generateRequest("x"), flags: []))
        XCTAssertEqual(try raw.readTrailers(stream: 3).status, .invalidArgument)
    }

    func testClientSendingTrailersIsAProtocolError() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        var out = ByteBuffer()
        FrameEncoder.write(.trailers, flags: .endStream, streamID: 1, payload: [], to: &out)
        try raw.send(out)
        XCTAssertEqual(try raw.readGoAway().code, StatusCode.invalidArgument.rawValue)
    }

    func testPingIsAcknowledged() throws {
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        var out = ByteBuffer()
        FrameEncoder.write(.ping, streamID: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8], to: &out)
        try raw.send(out)
        let pong = try raw.readFrame()
        XCTAssertEqual(pong.header.type, .ping)
        XCTAssertTrue(pong.header.flags.contains(.ack))
        XCTAssertEqual(Array(pong.payload.readableBytesView), [1, 2, 3, 4, 5, 6, 7, 8])
    }
}
