import NIOCore
import RampartCore
import RampartProto
import RampartWire

#if canImport(Glibc)
import Glibc
#endif

/// A synchronous, single-stream-at-a-time connection over plain POSIX calls.
///
/// For tools and benchmarks that want the lowest client-side overhead: one `write` per call
/// (HEADERS + MESSAGE), blocking reads until the TRAILERS, no event loop and no task hops.
/// Not thread-safe: use one per thread. Never compresses its requests.
public final class BlockingConnection {
    /// Everything a call touches, in one value: a call is one mutating access to it, so the
    /// runtime's exclusivity check (a thread-local lookup per access to a class's stored
    /// property) runs once per call instead of once per buffer operation.
    private var state: Session

    /// The server's preface.
    public var serverPreface: ServerPreface { state.serverPreface }

    /// Connects and exchanges prefaces.
    public init(socketPath: String, lz4: Bool = false) throws {
        state = try Session(socketPath: socketPath, lz4: lz4)
    }

    deinit { close(state.fd) }

    /// Performs a unary call with a serialized request; returns the serialized response.
    public func unary(_ method: String, request: some Collection<UInt8>, timeoutMicros: UInt64 = 0) throws -> ByteBuffer {
        try state.unary(method, request: request, timeoutMicros: timeoutMicros)
    }

    private struct Session {
        let fd: Int32
        var serverPreface = ServerPreface.refused
        var input = ByteBuffer()
        var output = ByteBuffer()
        var decoder = FrameDecoder(maxFrameSize: 64 << 20)
        var nextStreamID: UInt32 = 1
        /// The last call's HEADERS payload: a caller repeating its method and timeout (the usual
        /// case) reuses it without hashing anything. The method is kept as a private copy: the
        /// caller's string is often a constant shared by every thread, and a copy of it here
        /// would make each call retain and release that shared object.
        var lastMethod = ""
        var lastTimeout: UInt64 = 0
        var lastPayload: [UInt8]?
        /// Earlier pairs, for callers that alternate between methods or timeouts.
        var headerCache: [HeadersKey: [UInt8]] = [:]

        struct HeadersKey: Hashable {
            var method: String
            var timeoutMicros: UInt64
        }

        init(socketPath: String, lz4: Bool) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw RPCError(.unavailable, "socket(): \(String(cString: strerror(errno)))") }
            do {
                try connect(to: socketPath)
                ClientPreface(acceptsLZ4: lz4).write(to: &output)
                try flushOutput()
                while true {
                    if let preface = try ServerPreface.read(from: &input) {
                        serverPreface = preface
                        break
                    }
                    try fill()
                }
                guard serverPreface.version != 0 else { throw RPCError(.unavailable, "server refused the preface") }
            } catch {
                close(fd)
                throw error
            }
        }

        private func connect(to socketPath: String) throws {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array(socketPath.utf8)
            guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw RPCError(.invalidArgument, "socket path too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path)
                raw[path.count] = 0
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else {
                throw RPCError(.unavailable, "connect(\(socketPath)): \(String(cString: strerror(errno)))")
            }
        }

        mutating func unary(_ method: String, request: some Collection<UInt8>, timeoutMicros: UInt64) throws -> ByteBuffer {
            let id = nextStreamID
            nextStreamID &+= 1
            FrameEncoder.write(.headers, streamID: id, payload: try headersPayload(method, timeoutMicros), to: &output)
            FrameEncoder.write(.message, flags: .endStream, streamID: id, payload: request, to: &output)
            try flushOutput()
            var response: ByteBuffer?
            reading: while true {
                guard let frame = try decoder.next(from: &input) else {
                    try fill()
                    continue
                }
                guard frame.header.streamID == id else { continue }
                switch frame.header.type {
                case .message:
                    // Copied out: the caller owns the answer, and the receive buffer stays uniquely
                    // owned, so it is reused instead of copied on the next read.
                    let payload = try frame.messagePayload(lz4Allowed: serverPreface.lz4Enabled, limit: 64 << 20)
                    var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
                    copy.writeImmutableBuffer(payload)
                    response = copy
                case .trailers:
                    if TrailersFastPath.peekCode(frame.payload) != .ok {
                        let trailers = try Rampart_V1_Trailers(serializedBytes: frame.payload)
                        throw RPCError(trailers.status, trailers.message, metadata: trailers.textMetadata)
                    }
                    break reading
                default:
                    continue
                }
            }
            // No frame (a slice of `input`) is alive here, so neither call copies the buffer.
            if input.readableBytes == 0 { input.clear() } else { input.discardReadBytes() }
            guard let response else { throw RPCError(.internal, "OK without a response message") }
            return response
        }

        /// The HEADERS payload of (method, timeout), encoded once per pair.
        private mutating func headersPayload(_ method: String, _ timeoutMicros: UInt64) throws -> [UInt8] {
            if let payload = lastPayload, lastTimeout == timeoutMicros, lastMethod == method {
                return payload
            }
            let key = HeadersKey(method: method, timeoutMicros: timeoutMicros)
            let payload: [UInt8]
            if let cached = headerCache[key] {
                payload = cached
            } else {
                var headers = Rampart_V1_RequestHeaders()
                headers.method = method
                headers.timeoutUs = timeoutMicros
                payload = try headers.serializedBytes()
                if headerCache.count < 64 { headerCache[key] = payload }
            }
            lastMethod = String(decoding: method.utf8, as: UTF8.self)
            lastTimeout = timeoutMicros
            lastPayload = payload
            return payload
        }

        private mutating func flushOutput() throws {
            while output.readableBytes > 0 {
                let n = output.withUnsafeReadableBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let message = String(cString: strerror(errno))
                    output.clear()
                    throw RPCError(.unavailable, "send(): \(message)")
                }
                output.moveReaderIndex(forwardBy: n)
            }
            output.clear()
        }

        private mutating func fill() throws {
            var n = 0
            input.writeWithUnsafeMutableBytes(minimumWritableBytes: 65536) { buffer in
                n = recv(fd, buffer.baseAddress, buffer.count, 0)
                return max(n, 0)
            }
            if n == 0 { throw RPCError(.unavailable, "connection closed by the server") }
            if n < 0 {
                if errno == EINTR { return }
                throw RPCError(.unavailable, "recv(): \(String(cString: strerror(errno)))")
            }
        }
    }
}
