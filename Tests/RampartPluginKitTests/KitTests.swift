import CRampartPlugin
import Foundation
@testable import RampartPluginHost
import RampartPluginKit
import RampartProto
import Synchronization
import XCTest

// MARK: test plugins

final class RequestAndEnd: RampartPlugin {
    static let name = "request-and-end"
    static let version = "0.1.0"
    static let hooks: PluginHooks = [.request, .streamEnd]
    static let isThreadSafe = true
    init(config: [UInt8], host: PluginHost) throws {}
}

final class Everything: RampartPlugin {
    static let name = "everything"
    static let version = "2.0.0-beta"
    static let hooks: PluginHooks = [.request, .response, .chunk, .logits, .streamEnd, .streamState]
    init(config: [UInt8], host: PluginHost) throws {}
}

struct SomethingWentWrong: Error, CustomStringConvertible {
    var description: String { "something went wrong" }
}

final class Thrower: RampartPlugin {
    static let name = "thrower"
    static let version = "1"
    static let hooks: PluginHooks = [.request, .response, .chunk, .logits, .streamEnd]
    static let longMessage = "x" + String(repeating: "é", count: 3000) // 6001 bytes: byte 4096 is mid-character

    init(config: [UInt8], host: PluginHost) throws {
        if config == Array("fail".utf8) { throw PluginError.invalidArgument("threshold must be a number") }
        if config == Array("other".utf8) { throw SomethingWentWrong() }
    }

    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        switch request.request.prompt {
        case "plugin-error": throw PluginError.unavailable("backend gone")
        case "long-error": throw PluginError.internal(Self.longMessage)
        default: throw SomethingWentWrong()
        }
    }

    func onResponse(_ response: Rampart_V1_PluginResponse, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        throw PluginError.failedPrecondition("no response for you")
    }

    func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction {
        throw PluginError.unimplemented("chunks: \(text)")
    }

    func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>,
                  context: PluginCallContext) throws {
        throw PluginError.internal("logits: \(logits.count)")
    }

    func onStreamEnd(_ summary: Rampart_V1_StreamSummary, context: PluginCallContext) throws {
        throw PluginError.internal("end: \(summary.statusCode)")
    }
}

final class VerdictMaker: RampartPlugin {
    static let name = "verdict-maker"
    static let version = "1"
    static let hooks: PluginHooks = [.request, .response]
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        switch request.request.prompt {
        case "deny": .deny(code: .resourceExhausted, message: "slow down", retryAfterMs: 1500).annotated("rule", "rate")
        case "deny-default": .deny(message: "no")
        case "mutate": .mutate { $0.replacePrompt = true; $0.prompt = "rewritten" }
        case "huge": .mutate { $0.replacePrompt = true; $0.prompt = String(repeating: "x", count: 17 << 20) }
        default: .pass
        }
    }

    func onResponse(_ response: Rampart_V1_PluginResponse, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        .mutate { $0.replaceText = true; $0.text = response.response.text.uppercased() }
    }
}

final class Chunker: RampartPlugin {
    static let name = "chunker"
    static let version = "1"
    static let hooks: PluginHooks = [.chunk, .logits]
    init(config: [UInt8], host: PluginHost) throws {}

    func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction {
        switch text {
        case "stop": .stop
        case "drop": .replace("")
        case "swap": .replace("naïve ✓")
        default: .pass
        }
    }

    /// Bans repeating the previous token; records what it saw in the last logit.
    func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>,
                  context: PluginCallContext) throws {
        if let last = previous.last, logits.indices.contains(Int(last)) { logits[Int(last)] = -.infinity }
        if !logits.isEmpty { logits[logits.count - 1] = Float(previous.count) }
    }
}

/// Escapes its PluginHost on purpose to check that it is dead after the call.
nonisolated(unsafe) var escapedHost: PluginHost?

final class HostUser: RampartPlugin {
    static let name = "host-user"
    static let version = "1"
    static let hooks: PluginHooks = [.request]

    init(config: [UInt8], host: PluginHost) throws {
        host.log(.warning, "created with \(config.count) bytes")
    }

    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let host = context.host
        XCTAssertTrue(host.isValid)
        let previous = host.signal("seen") ?? 0
        host.publishSignal("seen", previous + 1, ttlMillis: 60_000)
        host.log(.debug, "seen \(Int(previous))")
        let now = host.monotonicNanoseconds, wall = host.wallClockNanoseconds
        escapedHost = host
        return Rampart_V1_Verdict.pass
            .annotated("monotonic", "\(now)")
            .annotated("wall", "\(wall)")
            .annotated("missing", "\(host.signal("never-set") == nil)")
    }
}

/// Counts live stream-state objects and plugin instances.
let liveObjects = Mutex<[String: Int]>([:])

final class Counter {
    var chunks = 0
    init() { liveObjects.withLock { $0["counter", default: 0] += 1 } }
    deinit { liveObjects.withLock { $0["counter", default: 0] -= 1 } }
}

final class Streamer: RampartPlugin {
    static let name = "streamer"
    static let version = "1"
    static let hooks: PluginHooks = [.chunk, .streamState]
    init(config: [UInt8], host: PluginHost) throws { liveObjects.withLock { $0["streamer", default: 0] += 1 } }
    deinit { liveObjects.withLock { $0["streamer", default: 0] -= 1 } }

    func makeStreamState(context: PluginCallContext) throws -> AnyObject? { Counter() }

    func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction {
        guard let counter = context.streamState as? Counter else { return .stop }
        counter.chunks += 1
        return .replace("\(text)#\(counter.chunks)")
    }
}

/// Thread-safe: answers each request with its own prompt, so crossed wires show.
final class Echo: RampartPlugin {
    static let name = "echo"
    static let version = "1"
    static let hooks: PluginHooks = [.request]
    static let isThreadSafe = true
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        context.host.publishSignal("echo:\(request.request.prompt)", 1)
        return .deny(message: request.request.prompt)
    }
}

// MARK: tests

final class DescriptorTests: XCTestCase {
    func testFlagsAndPointersMatchTheDeclaredHooks() throws {
        let d = try kitDescriptor(RequestAndEnd.self).pointee
        XCTAssertEqual(d.magic, RP_PLUGIN_MAGIC)
        XCTAssertEqual(d.struct_size, UInt32(MemoryLayout<rp_plugin_v1>.size))
        XCTAssertEqual(d.abi_major, UInt16(RP_ABI_MAJOR))
        XCTAssertEqual(d.abi_minor, UInt16(RP_ABI_MINOR))
        XCTAssertEqual(d.capabilities, RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_STREAM_END | RP_CAP_THREADSAFE | RP_CAP_HOST_FIELDS)
        XCTAssertNotNil(d.create)
        XCTAssertNotNil(d.destroy)
        XCTAssertNotNil(d.on_request)
        XCTAssertNotNil(d.on_stream_end)
        XCTAssertNil(d.on_response)
        XCTAssertNil(d.on_chunk)
        XCTAssertNil(d.on_logits)
        XCTAssertNil(d.stream_new)
        XCTAssertNil(d.stream_free)
        XCTAssertEqual(d.name.map { String(cString: $0) }, "request-and-end")
        XCTAssertEqual(d.version.map { String(cString: $0) }, "0.1.0")

        let all = try kitDescriptor(Everything.self).pointee
        XCTAssertEqual(all.capabilities, RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_RESPONSE | RP_CAP_HOOK_CHUNK
                       | RP_CAP_HOOK_LOGITS | RP_CAP_HOOK_STREAM_END | RP_CAP_HOST_FIELDS)
        XCTAssertTrue(all.on_response != nil && all.on_chunk != nil && all.on_logits != nil)
        XCTAssertTrue(all.stream_new != nil && all.stream_free != nil)
    }

    func testTheHostValidatorAcceptsKitDescriptors() throws {
        let info = try DescriptorValidator.validate(try kitDescriptor(RequestAndEnd.self), plugin: "x")
        XCTAssertEqual(info, PluginInfo(name: "request-and-end", version: "0.1.0", abiMinor: PluginABI.minor,
                                        capabilities: [.request, .streamEnd, .threadSafe, .hostFields]))
        let everything = try DescriptorValidator.validate(try kitDescriptor(Everything.self), plugin: "x")
        XCTAssertEqual(everything.capabilities, [.request, .response, .chunk, .logits, .streamEnd, .hostFields])
    }

    func testOneStaticDescriptorPerTypeAndDistinctCreateEntries() throws {
        XCTAssertEqual(try kitDescriptor(Chunker.self), try kitDescriptor(Chunker.self))
        XCTAssertNotEqual(try kitDescriptor(Chunker.self), try kitDescriptor(VerdictMaker.self))
        let a = unsafeBitCast(try kitDescriptor(Chunker.self).pointee.create, to: UInt.self)
        let b = unsafeBitCast(try kitDescriptor(VerdictMaker.self).pointee.create, to: UInt.self)
        XCTAssertNotEqual(a, b, "each type needs its own create entry point")
        // Two types created side by side each get their own class.
        XCTAssertEqual(try loadInProcess(Chunker.self).info.name, "chunker")
        XCTAssertEqual(try loadInProcess(VerdictMaker.self).info.name, "verdict-maker")
    }

    func testAnotherMajorABIIsRefused() {
        XCTAssertNil(PluginExport.descriptor(for: Chunker.self, hostMajor: 2, hostMinor: 0))
        XCTAssertNotNil(PluginExport.descriptor(for: Chunker.self, hostMajor: 1, hostMinor: 7))
        XCTAssertEqual(PluginABI.major, 1)
    }
}

final class ErrorMappingTests: XCTestCase {
    func testCreateErrorsReachTheOperator() {
        assertPluginError(try loadInProcess(Thrower.self, config: Array("fail".utf8))) { error in
            XCTAssertEqual(error, .createFailed(plugin: "kit", status: 3, message: "threshold must be a number"))
        }
        assertPluginError(try loadInProcess(Thrower.self, config: Array("other".utf8))) { error in
            XCTAssertEqual(error, .createFailed(plugin: "kit", status: 13, message: "create: something went wrong"))
        }
    }

    func testThrowingHooksGiveTheirStatusAndMessage() throws {
        let plugin = try loadInProcess(Thrower.self)
        assertPluginError(try plugin.onRequest(try promptRequest("plugin-error"), stream: nil)) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "kit", hook: "on_request", status: 14, message: "backend gone"))
        }
        assertPluginError(try plugin.onRequest(try promptRequest("other-error"), stream: nil)) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "kit", hook: "on_request", status: 13,
                                              message: "on_request: something went wrong"))
        }
        assertPluginError(try plugin.onResponse(try Rampart_V1_PluginResponse().serializedBytes(), stream: nil)) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "kit", hook: "on_response", status: 9, message: "no response for you"))
        }
        assertPluginError(try plugin.onChunk("abc", stream: nil)) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "kit", hook: "on_chunk", status: 12, message: "chunks: abc"))
        }
        var logits: [Float] = [1, 2, 3]
        assertPluginError(try logits.withUnsafeMutableBufferPointer { buffer in
            try plugin.onLogits(buffer, previous: UnsafeBufferPointer(start: nil, count: 0), stream: nil)
        }) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "kit", hook: "on_logits", status: 13, message: "logits: 3"))
        }
        let summary = try Rampart_V1_StreamSummary.with { $0.statusCode = 4 }.serializedBytes() as [UInt8]
        assertPluginError(try plugin.onStreamEnd(summary, stream: nil)) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "kit", hook: "on_stream_end", status: 13, message: "end: 4"))
        }
    }

    func testLongMessagesAreCutAtACharacterBoundary() throws {
        let plugin = try loadInProcess(Thrower.self)
        assertPluginError(try plugin.onRequest(try promptRequest("long-error"), stream: nil)) { error in
            guard case .hookFailed(_, _, 13, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message.utf8.count, 4095)
            XCTAssertFalse(message.contains("\u{FFFD}"), "cut inside a character")
            XCTAssertTrue(Thrower.longMessage.hasPrefix(message))
        }
    }

    func testMalformedInputIsAnErrorNotACrash() throws {
        let plugin = try loadInProcess(Everything.self)
        let garbage: [UInt8] = [0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]
        assertPluginError(try plugin.onRequest(garbage, stream: nil)) { error in
            guard case .hookFailed(_, "on_request", 3, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("on_request: malformed rampart.v1.PluginRequest"), message)
        }
        assertPluginError(try plugin.onResponse(garbage, stream: nil)) { error in
            guard case .hookFailed(_, "on_response", 3, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("on_response: malformed rampart.v1.PluginResponse"), message)
        }
        assertPluginError(try plugin.onStreamEnd(garbage, stream: nil)) { error in
            guard case .hookFailed(_, "on_stream_end", 3, _) = error else { return XCTFail("\(error)") }
        }
        // Empty input is a valid (empty) message.
        XCTAssertTrue(try plugin.onRequest([], stream: nil).isPass)
    }

    /// Calls the C entry points directly with arguments the host should never pass.
    func testBadPointersAreErrorsNotCrashes() throws {
        let d = try kitDescriptor(Everything.self).pointee
        let call = CallState(plugin: "raw", signals: SignalStore(), log: { _, _ in })
        let callPointer = OpaquePointer(Unmanaged.passUnretained(call).toOpaque())
        let output = HostBuffer(limit: 1 << 16)
        let outputPointer = OpaquePointer(Unmanaged.passUnretained(output).toOpaque())
        var instance: UnsafeMutableRawPointer?
        try withExtendedLifetime((call, output)) {
            let create = try XCTUnwrap(d.create)
            // No host table, or one too short to be a v1 table: refused before anything is read.
            XCTAssertEqual(create(nil, nil, 0, &instance, callPointer), RP_ERR_FAILED_PRECONDITION)
            var short = HostAPI.table.pointee
            short.struct_size = 16
            XCTAssertEqual(create(&short, nil, 0, &instance, callPointer), RP_ERR_FAILED_PRECONDITION)
            XCTAssertEqual(create(HostAPI.table, nil, 0, nil, callPointer), RP_ERR_INVALID_ARGUMENT)
            XCTAssertEqual(create(HostAPI.table, nil, 3, &instance, callPointer), RP_ERR_INVALID_ARGUMENT)
            XCTAssertTrue(call.errorMessage.contains("NULL pointer"), call.errorMessage)
            XCTAssertEqual(create(HostAPI.table, nil, 0, &instance, callPointer), RP_OK)
            XCTAssertNotNil(instance)

            let onRequest = try XCTUnwrap(d.on_request)
            XCTAssertEqual(onRequest(nil, nil, nil, 0, outputPointer, callPointer), RP_ERR_FAILED_PRECONDITION)
            XCTAssertEqual(onRequest(instance, nil, nil, 5, outputPointer, callPointer), RP_ERR_INVALID_ARGUMENT)
            XCTAssertEqual(call.errorMessage, "on_request: input: NULL pointer or invalid length 5")
            let byte: [UInt8] = [0]
            byte.withUnsafeBufferPointer { buffer in
                // A size_t above Int.max arrives as a negative Int.
                XCTAssertEqual(onRequest(instance, nil, buffer.baseAddress, -1, outputPointer, callPointer), RP_ERR_INVALID_ARGUMENT)
            }
            let onChunk = try XCTUnwrap(d.on_chunk)
            XCTAssertEqual(onChunk(instance, nil, nil, 0, nil, outputPointer, callPointer), RP_ERR_INVALID_ARGUMENT)
            XCTAssertEqual(call.errorMessage, "on_chunk: action_out is NULL")
            var action = RP_CHUNK_STOP
            XCTAssertEqual(onChunk(instance, nil, nil, 4, &action, outputPointer, callPointer), RP_ERR_INVALID_ARGUMENT)
            let onLogits = try XCTUnwrap(d.on_logits)
            XCTAssertEqual(onLogits(instance, nil, nil, 10, nil, 0, callPointer), RP_ERR_INVALID_ARGUMENT)
            let streamNew = try XCTUnwrap(d.stream_new)
            XCTAssertEqual(streamNew(instance, nil, callPointer), RP_ERR_INVALID_ARGUMENT)
            d.destroy?(instance)
            d.destroy?(nil)
        }
    }

    func testInvalidUTF8InAChunkIsRepairedNotTrusted() throws {
        let d = try kitDescriptor(Chunker.self).pointee
        let call = CallState(plugin: "raw", signals: SignalStore(), log: { _, _ in })
        let callPointer = OpaquePointer(Unmanaged.passUnretained(call).toOpaque())
        let output = HostBuffer(limit: 1 << 16)
        let outputPointer = OpaquePointer(Unmanaged.passUnretained(output).toOpaque())
        var instance: UnsafeMutableRawPointer?
        try withExtendedLifetime((call, output)) {
            XCTAssertEqual(try XCTUnwrap(d.create)(HostAPI.table, nil, 0, &instance, callPointer), RP_OK)
            let bytes: [CChar] = [0x73, -1, 0x77] // "s\xFFw"
            var action = RP_CHUNK_STOP
            let status = bytes.withUnsafeBufferPointer { buffer in
                d.on_chunk?(instance, nil, buffer.baseAddress, buffer.count, &action, outputPointer, callPointer)
            }
            XCTAssertEqual(status, RP_OK)
            XCTAssertEqual(action, RP_CHUNK_PASS)
            d.destroy?(instance)
        }
    }
}

final class HookTests: XCTestCase {
    func testVerdictBuildersRoundTripThroughTheHost() throws {
        let plugin = try loadInProcess(VerdictMaker.self)
        let pass = try plugin.onRequest(try promptRequest("hello"), stream: nil)
        // ABI 1.2: a pass crosses the ABI as nothing at all (no Verdict is written).
        XCTAssertNil(pass.action)
        XCTAssertTrue(pass.isPass)

        let deny = try plugin.onRequest(try promptRequest("deny"), stream: nil)
        XCTAssertEqual(deny.deny.code, 8)
        XCTAssertEqual(deny.deny.message, "slow down")
        XCTAssertEqual(deny.deny.retryAfterMs, 1500)
        XCTAssertEqual(deny.annotations.map(\.key), ["rule"])
        XCTAssertEqual(deny.annotations.first?.text, "rate")
        XCTAssertFalse(deny.isPass)
        XCTAssertEqual(try plugin.onRequest(try promptRequest("deny-default"), stream: nil).deny.code, 7)

        let mutate = try plugin.onRequest(try promptRequest("mutate"), stream: nil)
        guard case .mutate(let mutation)? = mutate.action else { return XCTFail("\(mutate)") }
        XCTAssertTrue(mutation.replacePrompt)
        XCTAssertEqual(mutation.prompt, "rewritten")

        var response = Rampart_V1_PluginResponse()
        response.response.text = "quiet"
        let loud = try plugin.onResponse(try response.serializedBytes(), stream: nil)
        XCTAssertEqual(loud.mutate.text, "QUIET")
        XCTAssertTrue(loud.mutate.replaceText)
    }

    func testAVerdictOverTheHostLimitIsAnError() throws {
        let plugin = try loadInProcess(VerdictMaker.self)
        assertPluginError(try plugin.onRequest(try promptRequest("huge"), stream: nil)) { error in
            guard case .hookFailed(_, "on_request", 13, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("exceeds the host's output buffer limit"), message)
        }
    }

    func testChunkActions() throws {
        let plugin = try loadInProcess(Chunker.self)
        XCTAssertEqual(try plugin.onChunk("keep", stream: nil), .pass)
        XCTAssertEqual(try plugin.onChunk("stop", stream: nil), .stop)
        XCTAssertEqual(try plugin.onChunk("drop", stream: nil), .replace(""))
        XCTAssertEqual(try plugin.onChunk("swap", stream: nil), .replace("naïve ✓"))
    }

    func testLogitsAreModifiedInPlace() throws {
        let plugin = try loadInProcess(Chunker.self)
        var logits: [Float] = [0.5, 1.5, 2.5, 0]
        let previous: [Int32] = [0, 2]
        try logits.withUnsafeMutableBufferPointer { buffer in
            try previous.withUnsafeBufferPointer { try plugin.onLogits(buffer, previous: $0, stream: nil) }
        }
        XCTAssertEqual(logits, [0.5, 1.5, -.infinity, 2])
        var empty: [Float] = []
        try empty.withUnsafeMutableBufferPointer { buffer in
            try plugin.onLogits(buffer, previous: UnsafeBufferPointer(start: nil, count: 0), stream: nil)
        }
    }

    func testHostServicesLogSignalsAndClocks() throws {
        let signals = SignalStore()
        let log = LogSink()
        let plugin = try loadInProcess(HostUser.self, config: [1, 2, 3], signals: signals, log: log)
        let first = try plugin.onRequest(try promptRequest("x"), stream: nil)
        _ = try plugin.onRequest(try promptRequest("y"), stream: nil)
        XCTAssertEqual(signals.get("seen"), 2)
        let lines = log.all.map { "\($0.0):\($0.1)" }
        XCTAssertEqual(lines, ["warning:created with 3 bytes", "debug:seen 0", "debug:seen 1"])
        let annotations = Dictionary(uniqueKeysWithValues: first.annotations.map { ($0.key, $0.text) })
        XCTAssertGreaterThan(UInt64(annotations["monotonic"] ?? "") ?? 0, 0)
        let wall = UInt64(annotations["wall"] ?? "") ?? 0
        XCTAssertLessThan(abs(Double(wall) / 1e9 - Date().timeIntervalSince1970), 60)
        XCTAssertEqual(annotations["missing"], "true")
    }

    func testAnEscapedHostIsDeadAfterItsCall() throws {
        let signals = SignalStore()
        let log = LogSink()
        let plugin = try loadInProcess(HostUser.self, signals: signals, log: log)
        _ = try plugin.onRequest(try promptRequest("x"), stream: nil)
        let host = try XCTUnwrap(escapedHost)
        XCTAssertFalse(host.isValid)
        let before = log.all.count
        host.log(.error, "from beyond")
        host.publishSignal("ghost", 1)
        XCTAssertEqual(log.all.count, before)
        XCTAssertNil(signals.get("ghost"))
        XCTAssertNil(host.signal("seen"))
        XCTAssertGreaterThan(host.monotonicNanoseconds, 0, "falls back to the local clock")
    }

    func testAThreadSafePluginIsCalledConcurrentlyWithoutCrossedWires() throws {
        let signals = SignalStore()
        let plugin = try loadInProcess(Echo.self, signals: signals)
        XCTAssertTrue(plugin.capabilities.contains(.threadSafe), "the host must not serialize this plugin")
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<200 {
                let prompt = "w\(worker)-r\(round)"
                let message = (try? plugin.onRequest(try promptRequest(prompt), stream: nil))?.deny.message
                if message != prompt { mismatches.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(mismatches.withLock { $0 }, 0)
        XCTAssertEqual(signals.get("echo:w7-r199"), 1)
    }

    func testStreamStateLivesFromStreamNewToStreamFree() throws {
        let before = liveObjects.withLock { $0 }
        do {
            let plugin = try loadInProcess(Streamer.self)
            let a = try plugin.newStream()
            let b = try plugin.newStream()
            XCTAssertNotNil(a)
            XCTAssertEqual(liveObjects.withLock { $0["counter", default: 0] }, before["counter", default: 0] + 2)
            XCTAssertEqual(try plugin.onChunk("x", stream: a), .replace("x#1"))
            XCTAssertEqual(try plugin.onChunk("y", stream: a), .replace("y#2"))
            XCTAssertEqual(try plugin.onChunk("z", stream: b), .replace("z#1"))
            plugin.freeStream(a)
            plugin.freeStream(b)
            XCTAssertEqual(liveObjects.withLock { $0["counter", default: 0] }, before["counter", default: 0])
            XCTAssertEqual(liveObjects.withLock { $0["streamer", default: 0] }, before["streamer", default: 0] + 1)
        }
        // NativePlugin's deinit calls destroy, which releases the instance.
        XCTAssertEqual(liveObjects.withLock { $0["streamer", default: 0] }, before["streamer", default: 0])
    }
}
