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
    private let fd: Int32
    private var input = ByteBuffer()
    private var output = ByteBuffer()
    private var decoder = FrameDecoder(maxFrameSize: 64 << 20)
    private var nextStreamID: UInt32 = 1
    private var headerCache: [HeadersKey: [UInt8]] = [:]

    private struct HeadersKey: Hashable {
        var method: String
        var timeoutMicros: UInt64
    }
    /// The server's preface.
    public private(set) var serverPreface = ServerPreface.refused

    /// Connects and exchanges prefaces.
    public init(socketPath: String, lz4: Bool = false) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RPCError(.unavailable, "socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw RPCError(.invalidArgument, "socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw RPCError(.unavailable, "connect(\(socketPath)): \(message)")
        }
        ClientPreface(acceptsLZ4: lz4).write(to: &output)
        try flushOutput()
        while true {
            if let preface = try ServerPreface.read(from: &input) {
                serverPreface = preface
                break
            }
            try fill()
        }
        guard serverPreface.version != 0 else {
            close(fd)
            throw RPCError(.unavailable, "server refused the preface")
        }
    }

    deinit { close(fd) }

    /// Performs a unary call with a serialized request; returns the serialized response.
    public func unary(_ method: String, request: some Collection<UInt8>, timeoutMicros: UInt64 = 0) throws -> ByteBuffer {
        let id = nextStreamID
        nextStreamID &+= 1
        // The HEADERS payload depends only on (method, timeout): encode it once per pair.
        let key = HeadersKey(method: method, timeoutMicros: timeoutMicros)
        let headerPayload: [UInt8]
        if let cached = headerCache[key] {
            headerPayload = cached
        } else {
            var headers = Rampart_V1_RequestHeaders()
            headers.method = method
            headers.timeoutUs = timeoutMicros
            headerPayload = try headers.serializedBytes()
            if headerCache.count < 64 { headerCache[key] = headerPayload }
        }
        FrameEncoder.write(.headers, streamID: id, payload: headerPayload, to: &output)
        FrameEncoder.write(.message, flags: .endStream, streamID: id, payload: request, to: &output)
        try flushOutput()
        var response: ByteBuffer?
        while true {
            guard let frame = try decoder.next(from: &input) else {
                try fill()
                continue
            }
            guard frame.header.streamID == id else { continue }
            switch frame.header.type {
            case .message:
                // Copy out of the receive buffer so that the buffer stays uniquely owned and is reused.
                let payload = try frame.messagePayload(lz4Allowed: serverPreface.lz4Enabled, limit: 64 << 20)
                var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
                copy.writeImmutableBuffer(payload)
                response = copy
            case .trailers:
                if TrailersFastPath.peekCode(frame.payload) != .ok {
                    let trailers = try Rampart_V1_Trailers(serializedBytes: frame.payload)
                    throw RPCError(trailers.status, trailers.message, metadata: trailers.textMetadata)
                }
                guard let response else { throw RPCError(.internal, "OK without a response message") }
                if input.readableBytes == 0 { input.clear() } else { input.discardReadBytes() }
                return response
            default:
                continue
            }
        }
    }

    private func flushOutput() throws {
        while output.readableBytes > 0 {
            let n = output.withUnsafeReadableBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RPCError(.unavailable, "send(): \(String(cString: strerror(errno)))")
            }
            output.moveReaderIndex(forwardBy: n)
        }
        output.clear()
    }

    private func fill() throws {
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
