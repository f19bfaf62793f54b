import NIOCore
import Synchronization
import RampartCore
import RampartProto
import RampartWire

/// What a client stream receives.
enum ClientStreamEvent {
    case headers(Rampart_V1_ResponseHeaders)
    case message(ByteBuffer)
    case trailers(Rampart_V1_Trailers)
}

/// One call's client-side state. Every property is touched only on the connection's event loop.
final class ClientCall: @unchecked Sendable {
    var streamID: UInt32?
    var cancelled = false
    var finished = false
    let onEvent: (ClientStreamEvent) -> Void

    init(onEvent: @escaping (ClientStreamEvent) -> Void) {
        self.onEvent = onEvent
        #if DEBUG
        Self.live.add(1, ordering: .relaxed)
        #endif
    }

    #if DEBUG
    /// Calls alive in this process (debug builds): tests check that finished calls are freed.
    static let live = Atomic<Int>(0)
    deinit { Self.live.subtract(1, ordering: .relaxed) }
    #endif
}

/// Client half of the protocol: reads the server preface, demultiplexes frames to calls.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase { case awaitingPreface, open, closed }

    private var phase = Phase.awaitingPreface
    private var buffer: ByteBuffer?
    private var decoder = FrameDecoder(maxFrameSize: 64 << 20)
    private let prefacePromise: EventLoopPromise<ServerPreface>
    private var context: ChannelHandlerContext?
    private var calls: [UInt32: ClientCall] = [:]
    private var nextStreamID: UInt32 = 1
    private var goAway: Rampart_V1_GoAway?
    private(set) var preface: ServerPreface?
    private let acceptLZ4: Bool
    /// The last HEADERS written and their encoding: callers repeat the same method, timeout and
    /// metadata call after call, and comparing costs less than encoding.
    private var lastHeaders: (headers: Rampart_V1_RequestHeaders, bytes: [UInt8])?

    init(prefacePromise: EventLoopPromise<ServerPreface>, acceptLZ4: Bool) {
        self.prefacePromise = prefacePromise
        self.acceptLZ4 = acceptLZ4
    }

    var compression: CompressionPolicy {
        guard let preface, preface.lz4Enabled else { return .disabled }
        return CompressionPolicy(enabled: true, threshold: 1024)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        var out = context.channel.allocator.buffer(capacity: Wire.clientPrefaceSize)
        ClientPreface(acceptsLZ4: acceptLZ4).write(to: &out)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason: RPCError
        if let goAway, goAway.code != 0 {
            reason = RPCError(StatusCode(wireValue: goAway.code), "connection closed by server: \(goAway.message)")
        } else {
            reason = RPCError(.unavailable, "connection closed")
        }
        phase = .closed
        if preface == nil { prefacePromise.fail(reason) }
        failAll(reason)
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil || buffer?.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer?.writeBuffer(&incoming)
        }
        guard var input = buffer else { return }
        do {
            if phase == .awaitingPreface {
                guard let preface = try ServerPreface.read(from: &input) else {
                    buffer = input
                    return
                }
                self.preface = preface
                if preface.version == 0 {
                    // A refusal: the GOAWAY that follows says why; keep reading it.
                    phase = .closed
                    while let frame = try decoder.next(from: &input) {
                        if frame.header.type == .goAway, let g = try? Rampart_V1_GoAway(serializedBytes: frame.payload) {
                            goAway = g
                        }
                    }
                    let error = RPCError(StatusCode(wireValue: goAway?.code ?? 14), goAway?.message ?? "server refused the connection")
                    prefacePromise.fail(error)
                    buffer = input
                    return
                }
                decoder = FrameDecoder(maxFrameSize: max(preface.maxFrameSize, 64 << 20))
                phase = .open
                prefacePromise.succeed(preface)
            }
            while phase == .open, let frame = try decoder.next(from: &input) {
                handle(frame)
            }
        } catch {
            failAll(RPCError(.internal, "protocol error from server: \(error)"))
            context.close(promise: nil)
        }
        buffer = input.readableBytes > 0 ? input : nil
        buffer?.discardReadBytes()
    }

    private func handle(_ frame: Frame) {
        switch frame.header.type {
        case .message, .headers, .trailers:
            guard let call = calls[frame.header.streamID] else { return }
            switch frame.header.type {
            case .message:
                do {
                    var payload = try frame.messagePayload(lz4Allowed: preface?.lz4Enabled ?? false, limit: 64 << 20)
                    if !frame.header.flags.contains(.compressed) {
                        // A slice would keep the whole receive buffer alive for as long as the caller
                        // holds the answer, so NIO's buffer pool could not reuse it and would allocate
                        // a fresh one for every read. A copy of the message costs less.
                        var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
                        copy.writeBuffer(&payload)
                        payload = copy
                    }
                    call.onEvent(.message(payload))
                } catch {
                    finish(call, Rampart_V1_Trailers(.internal, "bad message from server: \(error)"))
                }
            case .headers:
                if let headers = try? Rampart_V1_ResponseHeaders(serializedBytes: frame.payload) {
                    call.onEvent(.headers(headers))
                }
            default:
                finish(call, Self.trailers(frame.payload))
            }
        case .ping:
            if !frame.header.flags.contains(.ack), let context {
                var out = context.channel.allocator.buffer(capacity: 20)
                FrameEncoder.write(.ping, flags: .ack, streamID: 0, payload: frame.payload.readableBytesView, to: &out)
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        case .goAway:
            goAway = try? Rampart_V1_GoAway(serializedBytes: frame.payload)
        case .cancel:
            break
        }
    }

    /// Decodes TRAILERS. OK trailers are read by the fast path when they are well formed: callers
    /// read only the status of a successful call, so their metadata is not decoded.
    static func trailers(_ payload: ByteBuffer) -> Rampart_V1_Trailers {
        if TrailersFastPath.peekCode(payload) == .ok { return Rampart_V1_Trailers(.ok, "") }
        return (try? Rampart_V1_Trailers(serializedBytes: payload)) ?? Rampart_V1_Trailers(.internal, "malformed trailers from server")
    }

    private func finish(_ call: ClientCall, _ trailers: Rampart_V1_Trailers) {
        guard !call.finished else { return }
        call.finished = true
        if let id = call.streamID { calls.removeValue(forKey: id) }
        call.onEvent(.trailers(trailers))
    }

    private func failAll(_ error: RPCError) {
        let open = calls.values
        calls.removeAll()
        for call in open where !call.finished {
            call.finished = true
            call.onEvent(.trailers(Rampart_V1_Trailers(error.code, error.message)))
        }
    }

    /// Opens streams: for each call HEADERS then the request MESSAGE with END_STREAM, all of them
    /// encoded into one buffer that leaves in one write (one allocation per batch, not per call).
    func start(_ starts: [PendingStarts.Start]) {
        let capacity = starts.reduce(0) { $0 + 64 + $1.payload.readableBytes }
        var out = (context?.channel.allocator ?? ByteBufferAllocator()).buffer(capacity: capacity)
        var wrote = false
        for start in starts {
            wrote = encode(start.call, headers: start.headers, request: start.payload, into: &out) || wrote
        }
        if wrote, let context { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
    }

    /// Encodes one call's HEADERS and MESSAGE into `out`; false (and the call ended at once) when
    /// it cannot start.
    private func encode(_ call: ClientCall, headers: Rampart_V1_RequestHeaders, request: ByteBuffer, into out: inout ByteBuffer) -> Bool {
        guard !call.cancelled else { return false }
        guard phase == .open, context != nil else {
            call.finished = true
            call.onEvent(.trailers(Rampart_V1_Trailers(.unavailable, "connection is not open")))
            return false
        }
        if let goAway {
            call.finished = true
            call.onEvent(.trailers(Rampart_V1_Trailers(.unavailable, "server sent GOAWAY: \(goAway.message)")))
            return false
        }
        let id = nextStreamID
        nextStreamID &+= 1
        call.streamID = id
        calls[id] = call
        if let last = lastHeaders, last.headers == headers {
            FrameEncoder.write(.headers, streamID: id, payload: last.bytes, to: &out)
        } else if let bytes: [UInt8] = try? headers.serializedBytes() {
            FrameEncoder.write(.headers, streamID: id, payload: bytes, to: &out)
            lastHeaders = bytes.count <= 512 ? (headers, bytes) : nil
        }
        let policy = compression
        if policy.enabled, request.readableBytes >= policy.threshold {
            let start = out.writerIndex
            FrameEncoder.writeHeader(.message, flags: [.endStream, .compressed], streamID: id, length: 0, to: &out)
            if request.withUnsafeReadableBytes({ LZ4Codec.compress($0, into: &out) }) {
                out.setInteger(UInt32(out.writerIndex - start - Wire.frameHeaderSize), at: start)
            } else {
                out.moveWriterIndex(to: start)
                FrameEncoder.write(.message, flags: .endStream, streamID: id, payload: request.readableBytesView, to: &out)
            }
        } else {
            FrameEncoder.writeHeader(.message, flags: .endStream, streamID: id, length: request.readableBytes, to: &out)
            out.writeImmutableBuffer(request)
        }
        return true
    }

    /// Cancels a call: sends CANCEL if it is on the wire and reports CANCELLED to the caller.
    func cancel(_ call: ClientCall, reason: RPCError) {
        call.cancelled = true
        guard !call.finished else { return }
        if let id = call.streamID, let context, phase == .open {
            var out = context.channel.allocator.buffer(capacity: Wire.frameHeaderSize)
            FrameEncoder.writeHeader(.cancel, flags: [], streamID: id, length: 0, to: &out)
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
        finish(call, Rampart_V1_Trailers(reason.code, reason.message))
    }

    /// Sends a PING; used by tests and health probes.
    func ping(_ payload: UInt64) {
        guard let context, phase == .open else { return }
        var out = context.channel.allocator.buffer(capacity: 20)
        FrameEncoder.writeHeader(.ping, flags: [], streamID: 0, length: 8, to: &out)
        out.writeInteger(payload)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}
