import NIOCore
import RampartCore
import RampartProto
import RampartWire
import XCTest

final class FrameCodecTests: XCTestCase {
    let decoder = FrameDecoder(maxFrameSize: 1024)

    func testRoundTripAndPartialInput() throws {
        var buffer = ByteBuffer()
        FrameEncoder.write(.message, flags: .endStream, streamID: 7, payload: Array("hello".utf8), to: &buffer)
        FrameEncoder.write(.ping, streamID: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8], to: &buffer)
        let bytes = Array(buffer.readableBytesView)
        XCTAssertEqual(Array(bytes.prefix(12)), [0, 0, 0, 5, 2, 1, 0, 0, 0, 0, 0, 7])

        // Feed one byte at a time: frames appear exactly when complete.
        var input = ByteBuffer()
        var frames: [Frame] = []
        for byte in bytes {
            input.writeInteger(byte)
            while let frame = try decoder.next(from: &input) { frames.append(frame) }
        }
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(frames[0].header, FrameHeader(length: 5, type: .message, flags: .endStream, streamID: 7))
        XCTAssertEqual(String(buffer: frames[0].payload), "hello")
        XCTAssertEqual(frames[1].header.type, .ping)
        XCTAssertEqual(input.readableBytes, 0)
    }

    func testHeaderValidation() {
        func check(_ bytes: [UInt8], _ expected: WireError, line: UInt = #line) {
            var input = ByteBuffer(bytes: bytes)
            XCTAssertThrowsError(try decoder.next(from: &input), line: line) { error in
                XCTAssertEqual(error as? WireError, expected, line: line)
            }
        }
        check([0, 0, 4, 1, 2, 0, 0, 0, 0, 0, 0, 1], .frameTooLarge(streamID: 1, length: 1025, limit: 1024))
        check([0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 1], .unknownFrameType(9))
        check([0, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 1], .reservedBitsSet("header reserved field is 0x1"))
        check([0, 0, 0, 0, 2, 0x10, 0, 0, 0, 0, 0, 1], .reservedBitsSet("undefined flags 0x10"))
        check([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], .badStreamID(.headers, 0))
        check([0, 0, 0, 8, 5, 0, 0, 0, 0, 0, 0, 3], .badStreamID(.ping, 3))
        // An oversized frame is refused from its header alone, before any payload arrives.
        XCTAssertEqual(WireError.frameTooLarge(streamID: 1, length: 2, limit: 1).code, .resourceExhausted)
        XCTAssertEqual(WireError.unsupportedVersion(min: 2, max: 3).code, .unimplemented)
        XCTAssertEqual(WireError.badMagic.code, .invalidArgument)
    }

    func testPrefaces() throws {
        var out = ByteBuffer()
        ClientPreface(acceptsLZ4: true).write(to: &out)
        XCTAssertEqual(Array(out.readableBytesView), Array("RAMPART\n".utf8) + [0, 1, 0, 1, 0, 0, 0, 1])
        let parsed = try XCTUnwrap(try ClientPreface.read(from: &out))
        XCTAssertTrue(parsed.acceptsLZ4)
        XCTAssertEqual(parsed.negotiatedVersion(), 1)
        XCTAssertNil(ClientPreface(minVersion: 2, maxVersion: 9, acceptsLZ4: false).negotiatedVersion())
        XCTAssertNil(ClientPreface(minVersion: 1, maxVersion: 0, acceptsLZ4: false).negotiatedVersion())

        var partial = ByteBuffer(bytes: Array("RAMP".utf8))
        XCTAssertNil(try ClientPreface.read(from: &partial))
        var garbage = ByteBuffer(bytes: Array("RAX".utf8))
        XCTAssertThrowsError(try ClientPreface.read(from: &garbage)) { XCTAssertEqual($0 as? WireError, .badMagic) }

        var server = ByteBuffer()
        ServerPreface(version: 1, lz4: true, maxFrameSize: 4096, maxConcurrentStreams: 9).write(to: &server)
        XCTAssertEqual(server.readableBytes, Wire.serverPrefaceSize)
        let back = try XCTUnwrap(try ServerPreface.read(from: &server))
        XCTAssertEqual(back.maxFrameSize, 4096)
        XCTAssertEqual(back.maxConcurrentStreams, 9)
        XCTAssertTrue(back.lz4Enabled)
    }

    func testLZ4RoundTripAndCorruption() throws {
        var response = Rampart_V1_GenerateResponse()
        response.text = String(repeating: "abcdefgh ", count: 500)
        var buffer = ByteBuffer()
        try FrameEncoder.writeMessage(response, streamID: 1, compression: CompressionPolicy(enabled: true, threshold: 64), to: &buffer)
        let frame = try XCTUnwrap(try FrameDecoder(maxFrameSize: 1 << 20).next(from: &buffer))
        XCTAssertTrue(frame.header.flags.contains(.compressed))
        XCTAssertLessThan(frame.payload.readableBytes, 200)
        XCTAssertEqual(try frame.decode(Rampart_V1_GenerateResponse.self, lz4Allowed: true, limit: 1 << 20).text, response.text)
        // Above the receiver's limit: refused before decompressing.
        XCTAssertThrowsError(try frame.messagePayload(lz4Allowed: true, limit: 100))
        // Not negotiated: refused.
        XCTAssertThrowsError(try frame.messagePayload(lz4Allowed: false, limit: 1 << 20))
        // Incompressible data is sent plain even when LZ4 is on.
        var random = Rampart_V1_GenerateResponse()
        random.text = String((0..<2000).map { _ in Character(UnicodeScalar(UInt8.random(in: 33...126))) })
        var plain = ByteBuffer()
        try FrameEncoder.writeMessage(random, streamID: 1, compression: CompressionPolicy(enabled: true, threshold: 64), to: &plain)
        let plainFrame = try XCTUnwrap(try FrameDecoder(maxFrameSize: 1 << 20).next(from: &plain))
        XCTAssertFalse(plainFrame.header.flags.contains(.compressed))

        for corrupt in [[UInt8](), [0, 0, 1], [0, 0, 0, 10, 0xff], [0, 0, 0, 0], [0, 0, 0, 5, 0x50, 0x41]] {
            XCTAssertThrowsError(try LZ4Codec.decompress(ByteBuffer(bytes: corrupt), limit: 1 << 20), "\(corrupt)")
        }
    }

    func testDecodeErrorsAreInvalidArgument() {
        let frame = Frame(header: FrameHeader(length: 3, type: .message, flags: .endStream, streamID: 1),
                          payload: ByteBuffer(bytes: [0x12, 0x02, 0xff]))
        XCTAssertThrowsError(try frame.decode(Rampart_V1_GenerateRequest.self, lz4Allowed: false, limit: 100)) { error in
            XCTAssertEqual((error as? RPCError)?.code, .invalidArgument)
        }
    }

    /// Random bytes never crash the decoder: every outcome is a frame, "need more", or a WireError.
    func testRandomInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...64, using: &generator)
            var input = ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
            do {
                while let frame = try decoder.next(from: &input) {
                    _ = try? frame.decode(Rampart_V1_GenerateRequest.self, lz4Allowed: true, limit: 4096)
                }
            } catch {
                XCTAssertTrue(error is WireError)
            }
            var preface = ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
            _ = try? ClientPreface.read(from: &preface)
        }
    }

    func testStatusCodes() {
        XCTAssertEqual(StatusCode.allCases.count, 17)
        XCTAssertEqual(StatusCode(wireValue: 8), .resourceExhausted)
        XCTAssertEqual(StatusCode(wireValue: 99), .unknown)
        XCTAssertEqual(StatusCode.unauthenticated.name, "UNAUTHENTICATED")
    }
}

final class TrailersFastPathTests: XCTestCase {
    func testOKTrailersMatchSwiftProtobufByteForByte() throws {
        for value in ["", "r-1", "r-3f9a2c1b-000000000002", String(repeating: "é", count: 100)] {
            // Appended behind other bytes, as after a response message.
            var fast = ByteBuffer(bytes: [1, 2, 3])
            TrailersFastPath.writeOK(metadataKey: "rampart-request-id", value: value, streamID: 9, to: &fast)
            var reference = ByteBuffer(bytes: [1, 2, 3])
            try FrameEncoder.writeMessage(Rampart_V1_Trailers(.ok, metadata: ["rampart-request-id": value]),
                                          type: .trailers, flags: .endStream, streamID: 9, to: &reference)
            XCTAssertEqual(Array(fast.readableBytesView), Array(reference.readableBytesView), value)
        }
    }

    func testPeekCode() throws {
        for code in [StatusCode.ok, .cancelled, .invalidArgument, .unauthenticated] {
            let bytes: ByteBuffer = try Rampart_V1_Trailers(code, "message", metadata: ["k": "v"]).serializedBytes()
            XCTAssertEqual(TrailersFastPath.peekCode(bytes), code)
        }
        XCTAssertNil(TrailersFastPath.peekCode(ByteBuffer(bytes: [0x1a, 0x7f])), "length past the end")
        XCTAssertNil(TrailersFastPath.peekCode(ByteBuffer(bytes: [0x08])), "truncated varint")
        XCTAssertNil(TrailersFastPath.peekCode(ByteBuffer(bytes: [0x0b])), "group wire type")
        // A status of the wrong wire type is an unknown field to swift-protobuf (status stays OK): the same here.
        for bytes: [UInt8] in [[0x0a, 0x01, 0x05], [0x0d, 5, 0, 0, 0], [0x09, 5, 0, 0, 0, 0, 0, 0, 0]] {
            XCTAssertEqual(TrailersFastPath.peekCode(ByteBuffer(bytes: bytes)), .ok)
            XCTAssertEqual(try Rampart_V1_Trailers(serializedBytes: bytes).status, .ok)
        }
        XCTAssertEqual(TrailersFastPath.peekCode(ByteBuffer()), .ok)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {  // random bytes: an answer or nil, never a crash
            let bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = TrailersFastPath.peekCode(ByteBuffer(bytes: bytes))
        }
    }
}

final class InPlaceFrameTests: XCTestCase {
    func testInPlaceFramesMatchTheCopyingEncoderAndLeaveRoomForTrailers() throws {
        var message = Rampart_V1_GenerateResponse()
        for text in ["", "short", String(repeating: "longer text ", count: 200)] {
            message.text = text
            message.requestID = "r-1"
            for compression in [CompressionPolicy.disabled, CompressionPolicy(enabled: true, threshold: 64)] {
                var expected = ByteBuffer()
                try FrameEncoder.writeMessage(message, streamID: 9, compression: compression, to: &expected)
                var frame = try FrameEncoder.frame(message, streamID: 9, compression: compression)
                XCTAssertEqual(frame, expected, "\(text.count) bytes, lz4 \(compression.enabled)")
                XCTAssertGreaterThanOrEqual(frame.writableBytes, 64, "room for the trailers without a reallocation")
                let capacity = frame.capacity
                TrailersFastPath.writeOK(metadataKey: "rampart-request-id", value: "r-1", streamID: 9, to: &frame)
                XCTAssertEqual(frame.capacity, capacity)
            }
        }
    }

    func testInPlaceFramesOfOtherTypesAndFlags() throws {
        let trailers = Rampart_V1_Trailers(.notFound, "nope", metadata: ["k": "v"])
        var expected = ByteBuffer()
        try FrameEncoder.writeMessage(trailers, type: .trailers, flags: .endStream, streamID: 3, to: &expected)
        XCTAssertEqual(try FrameEncoder.frame(trailers, type: .trailers, flags: .endStream, streamID: 3), expected)
    }
}
