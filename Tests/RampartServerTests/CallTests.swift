import Foundation
import NIOCore
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import RampartWire
import XCTest

/// Calls through the Swift client against a real server on a Unix socket.
final class CallTests: XCTestCase {

    func testUnaryAndStreamingEcho() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let response = try await client.generate(makeRequest("hello rampart sidecar"))
        XCTAssertEqual(response.text, "hello rampart sidecar")
        XCTAssertEqual(response.model, "null")
        XCTAssertEqual(response.finishReason, .stop)
        XCTAssertTrue(response.requestID.hasPrefix("r") && response.requestID.utf8.count == 15, response.requestID)

        var pieces: [String] = []
        var last = Rampart_V1_GenerateChunk()
        for try await chunk in client.generateStream(makeRequest("one two three four", maxTokens: 3)) {
            pieces.append(chunk.text)
            last = chunk
        }
        XCTAssertEqual(pieces.joined(), "one two three ")
        XCTAssertEqual(last.finishReason, .length)
        XCTAssertEqual(last.usage.completionTokens, 3)
        await client.close()
        await server.shutdown()
    }

    func testManyConcurrentStreamsOnOneConnection() async throws {
        let settings = testSettings()
        let server = try startServer(settings, backend: SlowBackend(tokens: 3, delay: .milliseconds(2)))
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<64 {
                group.addTask {
                    if i % 2 == 0 {
                        return try await client.generate(makeRequest("p\(i)")).text
                    }
                    var text = ""
                    for try await chunk in client.generateStream(makeRequest("p\(i)")) { text += chunk.text }
                    return text
                }
            }
            var count = 0
            for try await text in group {
                XCTAssertEqual(text, "t0 t1 t2 ")
                count += 1
            }
            XCTAssertEqual(count, 64)
        }
        XCTAssertEqual(server.metrics.streams, 0)
        await client.close()
        await server.shutdown()
    }

    func testCancellationStopsBackendWork() async throws {
        let settings = testSettings()
        let backend = SlowBackend(tokens: 500, delay: .milliseconds(10))
        let server = try startServer(settings, backend: backend)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let task = Task {
            var received = 0
            for try await _ in client.generateStream(makeRequest("go", maxTokens: 500)) {
                received += 1
                if received == 3 { break }  // ending the iteration cancels the call
            }
            return received
        }
        let received = try await task.value
        XCTAssertEqual(received, 3)
        XCTAssertTrue(eventually { backend.stoppedEarly.load(ordering: .relaxed) }, "backend kept generating after cancel")
        XCTAssertLessThan(backend.emitted.load(ordering: .relaxed), 50)

        // Task cancellation of a unary call cancels it too.
        let backend2Calls = backend.calls.load(ordering: .relaxed)
        let unary = Task { try await client.generate(makeRequest("go", maxTokens: 500)) }
        XCTAssertTrue(eventually { backend.calls.load(ordering: .relaxed) > backend2Calls })
        unary.cancel()
        do {
            _ = try await unary.value
            XCTFail("expected CANCELLED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .cancelled)
        }
        XCTAssertTrue(eventually { server.metrics.streams == 0 })
        await client.close()
        await server.shutdown()
    }

    /// The connection reuses the decoding of a repeated HEADERS payload: calls that differ in
    /// timeout or method on one connection must each get their own.
    func testHeadersThatDifferAreNeverTakenFromTheLastCall() async throws {
        let settings = testSettings()
        let server = try startServer(settings, backend: SlowBackend(tokens: 3, delay: .milliseconds(30)))
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        for _ in 0..<2 {
            let response = try await client.generate(makeRequest("slow", maxTokens: 3))
            XCTAssertEqual(response.finishReason, .length)
        }
        do {
            _ = try await client.generate(makeRequest("slow", maxTokens: 3), options: CallOptions(timeout: .milliseconds(20)))
            XCTFail("expected DEADLINE_EXCEEDED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .deadlineExceeded)
        }
        let again = try await client.generate(makeRequest("slow", maxTokens: 3))
        XCTAssertEqual(again.finishReason, .length, "the previous call's timeout must not carry over")
        let health = try await client.health()
        XCTAssertEqual(health.status, .serving)
        await client.close()
        await server.shutdown()
    }

    /// The client reuses the encoding of a repeated HEADERS payload: calls that differ only in
    /// metadata must each send their own.
    func testClientHeadersFollowEachCallsMetadata() async throws {
        let settings = testSettings()
        let server = try startServer(settings) { dispatcher in
            dispatcher.register("/rampart.test.Echo/Metadata") { call in
                var response = Rampart_V1_GenerateResponse()
                response.text = call.responder.context.metadata["k"] ?? "-"
                call.responder.finish(with: response)
            }
        }
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        for value in ["a", "a", "b", "", "a", "", "", "b"] {
            let options = CallOptions(metadata: value.isEmpty ? [:] : ["k": value])
            let response = try await client.unary("/rampart.test.Echo/Metadata", makeRequest("x"), options: options,
                                                  as: Rampart_V1_GenerateResponse.self)
            XCTAssertEqual(response.text, value.isEmpty ? "-" : value)
        }
        await client.close()
        await server.shutdown()
    }

    func testDeadlineDuringGenerationIsDeadlineExceededAndStopsTheBackend() async throws {
        let settings = testSettings()
        let backend = SlowBackend(tokens: 500, delay: .milliseconds(10))
        let server = try startServer(settings, backend: backend)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let start = ContinuousClock.now
        do {
            _ = try await client.generate(makeRequest("slow", maxTokens: 500), options: CallOptions(timeout: .milliseconds(150)))
            XCTFail("expected DEADLINE_EXCEEDED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .deadlineExceeded)
            XCTAssertTrue(error.message.contains("deadline"), error.message)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
        XCTAssertTrue(eventually { backend.stoppedEarly.load(ordering: .relaxed) })
        await client.close()
        await server.shutdown()
    }

    func testLZ4IsNegotiatedAndUsedAboveTheThreshold() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let prompt = String(repeating: "compressible text for the sidecar ", count: 400)  // ~13 KB
        let client = try await RampartClient.connect(socketPath: settings.socketPath, lz4: true)
        XCTAssertTrue(client.serverPreface.lz4Enabled)
        let echoed = try await client.generate(makeRequest(prompt, maxTokens: 2048)).text
        XCTAssertEqual(echoed, prompt)
        await client.close()

        // On the wire: the server's response MESSAGE carries COMPRESSED and is smaller.
        let raw = try RawConnection(path: settings.socketPath)
        XCTAssertTrue(try raw.handshake(lz4: true).lz4Enabled)
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 1, RawConnection.generateRequest(prompt, maxTokens: 2048)))
        let frame = try raw.readFrame { $0.header.type == .message }
        XCTAssertTrue(frame.header.flags.contains(.compressed))
        XCTAssertLessThan(Int(frame.header.length), prompt.utf8.count / 4)
        let decoded = try frame.decode(Rampart_V1_GenerateResponse.self, lz4Allowed: true, limit: 1 << 20)
        XCTAssertEqual(decoded.text, prompt)

        // Without LZ4 in the client preface, nothing is compressed.
        let plain = try RawConnection(path: settings.socketPath)
        XCTAssertFalse(try plain.handshake(lz4: false).lz4Enabled)
        try plain.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try plain.send(RawConnection.message(stream: 1, RawConnection.generateRequest(prompt, maxTokens: 2048)))
        let plainFrame = try plain.readFrame { $0.header.type == .message }
        XCTAssertFalse(plainFrame.header.flags.contains(.compressed))
        await server.shutdown()
    }

    func testParameterValidation() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        func expectInvalid(_ mutate: (inout Rampart_V1_GenerateRequest) -> Void, _ fragment: String) async {
            var r = makeRequest("x")
            mutate(&r)
            do {
                _ = try await client.generate(r)
                XCTFail("expected INVALID_ARGUMENT for \(fragment)")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .invalidArgument)
                XCTAssertTrue(error.message.contains(fragment), "\(error.message) should mention \(fragment)")
                XCTAssertNotNil(error.metadata["rampart-request-id"], "error trailers carry the request id")
            } catch {
                XCTFail("\(error)")
            }
        }
        await expectInvalid({ $0.prompt = "" }, "one of messages or prompt")
        await expectInvalid({ $0.messages = [Rampart_V1_ChatMessage()] }, "not both")
        await expectInvalid({ $0.params.maxTokens = 100_000_000 }, "max_tokens")
        await expectInvalid({ $0.params.temperature = 3 }, "temperature")
        await expectInvalid({ $0.params.temperature = .nan }, "temperature")
        await expectInvalid({ $0.params.topP = 0 }, "top_p")
        await expectInvalid({ $0.params.topK = 5000 }, "top_k")
        await expectInvalid({ $0.params.stop = Array(repeating: "s", count: 9) }, "stop")
        await expectInvalid({ $0.params.topLogprobs = 3 }, "needs params.logprobs")
        await expectInvalid({ $0.params.logitBias = [1: 500] }, "logit_bias")
        await expectInvalid({ $0.prompt = ""; $0.messages = [Rampart_V1_ChatMessage()] }, "role")
        await client.close()
        await server.shutdown()
    }

    func testHealthReportsModelAndDraining() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let health = try await client.health()
        XCTAssertEqual(health.status, .serving)
        XCTAssertEqual(health.model.backend, "null")
        XCTAssertEqual(health.protocolVersion, 1)
        do {
            _ = try await client.health(service: "nope")
            XCTFail("expected NOT_FOUND")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .notFound)
        }
        await client.close()
        await server.shutdown()
    }

    func testGracefulDrainFinishesInFlightAndRefusesNewStreams() async throws {
        let settings = testSettings()
        let backend = SlowBackend(tokens: 20, delay: .milliseconds(10))
        let server = try startServer(settings, backend: backend)
        let raw = try RawConnection(path: settings.socketPath)
        try raw.handshake()
        try raw.send(RawConnection.headers(stream: 1, method: InferenceMethods.generate))
        try raw.send(RawConnection.message(stream: 1, RawConnection.generateRequest("in flight")))
        XCTAssertTrue(eventually { backend.calls.load(ordering: .relaxed) == 1 })
        let drain = Task { await server.drain() }
        let goAway = try raw.readGoAway()
        XCTAssertEqual(goAway.code, 0)
        XCTAssertEqual(goAway.lastStreamID, 1)
        try raw.send(RawConnection.headers(stream: 3, method: InferenceMethods.generate))
        XCTAssertEqual(try raw.readTrailers(stream: 3).status, .unavailable)
        let inFlight = try raw.readFrame { $0.header.type == .message && $0.header.streamID == 1 }
        let response = try Rampart_V1_GenerateResponse(serializedBytes: inFlight.payload)
        XCTAssertEqual(response.usage.completionTokens, 20, "the in-flight stream must complete")
        XCTAssertEqual(try raw.readTrailers(stream: 1).status, .ok)
        XCTAssertTrue(raw.isClosedByPeer())
        await drain.value
        XCTAssertFalse(FileManager.default.fileExists(atPath: settings.socketPath), "socket file removed")
        await server.shutdown()
    }
}

func makeRequest(_ prompt: String, maxTokens: UInt32 = 0) -> Rampart_V1_GenerateRequest {
    var r = Rampart_V1_GenerateRequest()
    r.prompt = prompt
    r.params.maxTokens = maxTokens
    return r
}
