import Foundation
import Logging
import NIOCore
import RampartChain
import RampartCore
import RampartProto
import RampartServer
import RampartWire
import Synchronization
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory for one test's socket.
func makeTempDirectory() -> String {
    let base = "/tmp/rampart-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    mkdir(base, 0o700)
    return base
}

/// Default settings for tests: short timeouts, a socket in its own directory.
func testSettings(_ directory: String = makeTempDirectory()) -> ServerSettings {
    var settings = ServerSettings(socketPath: directory + "/rampart.sock")
    settings.readTimeoutMillis = 10_000
    settings.drainTimeoutMillis = 5_000
    return settings
}

/// Starts a server; the caller shuts it down.
func startServer(
    _ settings: ServerSettings, backend: any InferenceBackend = NullBackend(), chains: ChainHolder = ChainHolder(),
    extraMethods: (inout Dispatcher) -> Void = { _ in }
) throws -> RampartServer {
    var logger = Logger(label: "rampart.test")
    logger.logLevel = .warning
    return try RampartServer.start(settings: settings, backend: backend, logger: logger, chains: chains, extraMethods: extraMethods)
}

/// A backend that emits `tokens` tokens `delay` apart and records how far it got.
final class SlowBackend: InferenceBackend {
    let model = ModelDescriptor(name: "slow", version: "t", backend: "test", contextLength: 4096, vocabularySize: 0)
    let execution = BackendExecution.blocking
    let delay: Duration
    let tokens: Int
    let calls = Atomic<Int>(0)
    let emitted = Atomic<Int>(0)
    let stoppedEarly = Atomic<Bool>(false)

    init(tokens: Int = 50, delay: Duration = .milliseconds(20)) {
        self.tokens = tokens
        self.delay = delay
    }

    func countPromptTokens(_ input: PromptInput) -> Int { 1 }

    func generate(_ request: GenerationRequest, sink: TokenSink) throws -> GenerationResult {
        calls.add(1, ordering: .relaxed)
        for i in 0..<min(tokens, request.sampling.maxTokens) {
            Thread.sleep(forTimeInterval: Double(delay.components.attoseconds) / 1e18 + Double(delay.components.seconds))
            emitted.add(1, ordering: .relaxed)
            if !sink(GeneratedToken(id: Int32(i), text: "t\(i) ")) {
                stoppedEarly.store(true, ordering: .relaxed)
                return GenerationResult(finish: .cancelled, promptTokens: 1, completionTokens: i + 1)
            }
        }
        return GenerationResult(finish: .length, promptTokens: 1, completionTokens: tokens)
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

enum RawError: Error { case io(String), closed, timeout }

/// A blocking socket speaking raw bytes, for feeding the server malformed input.
final class RawConnection {
    let fd: Int32
    private var pending = ByteBuffer()
    private let decoder = FrameDecoder(maxFrameSize: 64 << 20)

    init(path: String, receiveTimeout: Double = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawError.io("socket") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw RawError.io("connect: \(String(cString: strerror(errno)))")
        }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw RawError.io("send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    func send(_ buffer: ByteBuffer) throws { try send(Array(buffer.readableBytesView)) }

    /// Sends the client preface and reads the server's.
    @discardableResult
    func handshake(lz4: Bool = false) throws -> ServerPreface {
        var out = ByteBuffer()
        ClientPreface(acceptsLZ4: lz4).write(to: &out)
        try send(out)
        return try readServerPreface()
    }

    func readServerPreface() throws -> ServerPreface {
        while true {
            if let preface = try ServerPreface.read(from: &pending) { return preface }
            try fill()
        }
    }

    /// Reads the next frame; throws `.closed` at EOF.
    func readFrame() throws -> Frame {
        while true {
            if let frame = try decoder.next(from: &pending) { return frame }
            try fill()
        }
    }

    /// Reads frames until one matches.
    func readFrame(where match: (Frame) -> Bool) throws -> Frame {
        while true {
            let frame = try readFrame()
            if match(frame) { return frame }
        }
    }

    /// Reads trailers for a stream.
    func readTrailers(stream: UInt32) throws -> Rampart_V1_Trailers {
        let frame = try readFrame { $0.header.type == .trailers && $0.header.streamID == stream }
        return try Rampart_V1_Trailers(serializedBytes: frame.payload)
    }

    /// Reads the GOAWAY frame.
    func readGoAway() throws -> Rampart_V1_GoAway {
        let frame = try readFrame { $0.header.type == .goAway }
        return try Rampart_V1_GoAway(serializedBytes: frame.payload)
    }

    /// True when the peer closed the connection (EOF) within the receive timeout.
    func isClosedByPeer() -> Bool {
        while true {
            do { _ = try readFrame() } catch RawError.closed { return true } catch { return false }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { throw RawError.closed }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw RawError.timeout }
            if errno == ECONNRESET { throw RawError.closed }
            throw RawError.io("recv: \(String(cString: strerror(errno)))")
        }
        pending.writeBytes(chunk[0..<n])
    }

    // MARK: frame builders

    static func headers(stream: UInt32, method: String, timeoutUs: UInt64 = 0, flags: FrameFlags = []) -> ByteBuffer {
        var h = Rampart_V1_RequestHeaders()
        h.method = method
        h.timeoutUs = timeoutUs
        var out = ByteBuffer()
        try! FrameEncoder.writeMessage(h, type: .headers, flags: flags, streamID: stream, to: &out)
        return out
    }

    static func message(stream: UInt32, _ payload: [UInt8], flags: FrameFlags = .endStream) -> ByteBuffer {
        var out = ByteBuffer()
        FrameEncoder.write(.message, flags: flags, streamID: stream, payload: payload, to: &out)
        return out
    }

    static func generateRequest(_ prompt: String, maxTokens: UInt32 = 0) -> [UInt8] {
        var r = Rampart_V1_GenerateRequest()
        r.prompt = prompt
        r.params.maxTokens = maxTokens
        return try! r.serializedBytes()
    }
}
