import CRawPingPong
import Foundation
import NIOCore
import RampartCore
import RampartProto
import RampartServer
import RampartWire
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The C client of `rampart bench rpc` (`rp_frame_bench`) against a real server: it counts only
/// calls answered by a MESSAGE and OK trailers, and refuses a refused preface; with many streams in
/// flight on one connection too.
final class FrameBenchClientTests: XCTestCase {
    private func frames(method: String, prompt: String, magic: [UInt8]? = nil) throws -> (preface: [UInt8], call: [UInt8]) {
        var preface = ByteBuffer()
        ClientPreface(acceptsLZ4: false).write(to: &preface)
        var prefaceBytes = Array(preface.readableBytesView)
        if let magic { prefaceBytes.replaceSubrange(0..<magic.count, with: magic) }
        var headers = Rampart_V1_RequestHeaders()
        headers.method = method
        var request = Rampart_V1_GenerateRequest()
        request.prompt = prompt
        var call = ByteBuffer()
        FrameEncoder.write(.headers, streamID: 1, payload: try headers.serializedBytes() as [UInt8], to: &call)
        FrameEncoder.write(.message, flags: .endStream, streamID: 1, payload: try request.serializedBytes() as [UInt8], to: &call)
        return (prefaceBytes, Array(call.readableBytesView))
    }

    private func run(_ socket: String, connections: Int32, streams: Int32 = 1, _ f: (preface: [UInt8], call: [UInt8])) -> (rc: Int32, errno: Int32, result: rp_bench_result) {
        var result = rp_bench_result()
        let rc = f.preface.withUnsafeBufferPointer { preface in
            f.call.withUnsafeBufferPointer { call in
                var spec = rp_frame_request(preface: preface.baseAddress, preface_len: preface.count,
                                            request: call.baseAddress, request_len: call.count)
                return rp_frame_bench(socket, connections, streams, &spec, 0.3, 0.05, &result)
            }
        }
        return (rc, rc == 0 ? 0 : errno, result)
    }

    func testCallsOnManyStreamsAndConnectionsAreCounted() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        // Three connections with one call at a time; two with sixteen calls in flight on each.
        for (connections, streams): (Int32, Int32) in [(3, 1), (2, 16)] {
            let outcome = run(settings.socketPath, connections: connections, streams: streams,
                              try frames(method: InferenceService.generate, prompt: "echo me"))
            XCTAssertEqual(outcome.rc, 0, String(cString: strerror(outcome.errno)))
            XCTAssertGreaterThan(outcome.result.requests, 10)
            XCTAssertGreaterThan(outcome.result.p50_us, 0)
        }
        await server.shutdown()
    }

    func testAnErrorStatusIsAFailureNotACall() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        for streams: Int32 in [1, 8] {  // one call at a time, and eight in flight on one connection
            let outcome = run(settings.socketPath, connections: 1, streams: streams,
                              try frames(method: "/rampart.v1.Nope/Missing", prompt: "x"))
            XCTAssertEqual(outcome.rc, -1, "streams \(streams)")
            XCTAssertEqual(outcome.errno, EPROTO, "streams \(streams)")
        }
        await server.shutdown()
    }

    func testARefusedPrefaceIsAFailure() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let outcome = run(settings.socketPath, connections: 1,
                          try frames(method: InferenceService.generate, prompt: "x", magic: Array("NOTRAMP\n".utf8)))
        XCTAssertEqual(outcome.rc, -1)
        XCTAssertEqual(outcome.errno, EPROTO)
        await server.shutdown()
    }

    func testMoreCallsInFlightThanTheServersCapIsAFailure() async throws {
        var settings = testSettings()
        settings.maxConcurrentStreams = 4
        // Slow calls, so that all five are open at once (the null backend answers each call
        // before the next frame is read).
        let server = try startServer(settings, backend: SlowBackend(tokens: 2, delay: .milliseconds(20)))
        let outcome = run(settings.socketPath, connections: 1, streams: 5,
                          try frames(method: InferenceService.generate, prompt: "echo me"))
        XCTAssertEqual(outcome.rc, -1)
        XCTAssertEqual(outcome.errno, EPROTO)
        await server.shutdown()
    }

    func testStreamCountsOutOfRangeAreRefused() throws {
        let f = try frames(method: InferenceService.generate, prompt: "x")
        for streams in [Int32(0), -1, Int32(RP_MAX_STREAMS) + 1] {
            let outcome = run("/nonexistent/rampart.sock", connections: 1, streams: streams, f)
            XCTAssertEqual(outcome.rc, -1)
            XCTAssertEqual(outcome.errno, EINVAL, "streams \(streams)")
        }
    }
}
