import Logging
import NIOCore
import RampartCore
import RampartProto
import RampartWire

/// Sent down a connection's pipeline to start a graceful drain.
struct DrainEvent: Sendable {}

/// The per-connection protocol state machine: preface, frame decoding, streams, deadlines,
/// cancellation, timeouts and drain. Runs entirely on the connection's event loop.
///
/// Its timers hold it strongly: a weak reference would give it a side table, and every retain
/// and release of the handler (several per call) would take the runtime's slow path.
/// `channelInactive` cancels every timer, which ends the cycle.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One open stream. A class: the dictionary lookups on every frame then cost one retain
    /// instead of copying (and retaining) every field.
    private final class OpenStream {
        let responder: StreamResponder
        let handler: MethodHandler
        let deadline: NIODeadline?
        var receivedMessage = false
        var deadlineTask: Scheduled<Void>?

        init(responder: StreamResponder, handler: @escaping MethodHandler, deadline: NIODeadline?) {
            self.responder = responder
            self.handler = handler
            self.deadline = deadline
        }
    }

    private enum Phase { case awaitingPreface, open, closed }

    /// The last HEADERS payload and what it decoded to. A client repeats the same headers call
    /// after call (same method, timeout and metadata), so a byte-for-byte match skips decoding
    /// them: no protobuf pass, no method string, no metadata dictionary to build. A class: taking
    /// it for a call costs one retain, not one per field.
    private final class DecodedHeaders {
        /// Payloads up to this size are remembered.
        static let maxBytes = 512
        /// A copy of the payload (not a slice of the read buffer, which it would keep alive), or
        /// nil when it is too large to remember.
        let bytes: ByteBuffer?
        let method: String
        let timeoutUs: UInt64
        let metadata: [String: String]

        init(payload: ByteBuffer, _ headers: Rampart_V1_RequestHeaders) {
            if payload.readableBytes <= Self.maxBytes {
                var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
                copy.writeImmutableBuffer(payload)
                bytes = copy
            } else {
                bytes = nil
            }
            method = headers.method
            timeoutUs = headers.timeoutUs
            var metadata: [String: String] = [:]
            for entry in headers.metadata { if case .text(let value)? = entry.value { metadata[entry.key] = value } }
            self.metadata = metadata
        }
    }

    private let settings: ServerSettings
    private let dispatcher: Dispatcher
    private let ids: RequestIDGenerator
    private let metrics: ServerMetrics
    private var logger: Logger

    private var context: ChannelHandlerContext?
    private var phase = Phase.awaitingPreface
    private var buffer: ByteBuffer?
    private let decoder: FrameDecoder
    private var compression = CompressionPolicy.disabled
    private var peer: PeerCredentials?
    private var streams: [UInt32: OpenStream] = [:]
    private var lastHeaders: DecodedHeaders?
    private var lastStreamID: UInt32 = 0
    private var draining = false
    /// Between `channelRead` and `channelReadComplete`: answers written while reading wait for
    /// a flush at the end of the batch, or after every `settings.flushEvery` of them, so the
    /// responses to the requests that arrived in one read leave in few `writev`s (many streams
    /// on one connection) instead of one each.
    private var inReadBatch = false
    private var flushPending = false
    /// Writes waiting for a flush since the last one inside the current read batch.
    private var answersSinceFlush = 0

    private var partialSince: NIODeadline?
    private var readTimer: Scheduled<Void>?
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?

    init(settings: ServerSettings, dispatcher: Dispatcher, ids: RequestIDGenerator, metrics: ServerMetrics, logger: Logger) {
        self.settings = settings
        self.dispatcher = dispatcher
        self.ids = ids
        self.metrics = metrics
        self.logger = logger
        self.decoder = FrameDecoder(maxFrameSize: UInt32(clamping: settings.maxFrameSize))
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = PeerCredentialsReader.read(from: context.channel)
        if let peer { logger[metadataKey: "peer"] = "\(peer)" }
        metrics.connectionOpened()
        partialSince = .now()  // the preface must arrive within the read timeout
        armReadTimer()
        armIdleTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if phase != .closed { metrics.connectionClosed() }
        phase = .closed
        readTimer?.cancel()
        idleTimer?.cancel()
        for (_, stream) in streams {
            stream.responder.cancel()
            stream.deadlineTask?.cancel()
        }
        metrics.streamsEnded(streams.count)
        streams.removeAll()
        self.context = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            startDrain()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closed else { return }
        inReadBatch = true
        let incoming = unwrapInboundIn(data)
        if buffer == nil || buffer?.readableBytes == 0 {
            buffer = incoming
        } else {
            var incoming = incoming
            buffer?.writeBuffer(&incoming)
        }
        lastActivity = .now()
        do {
            try process()
        } catch {
            fail(error)
            return
        }
        if let readable = buffer?.readableBytes, readable > 0 {
            if partialSince == nil {
                partialSince = .now()
                armReadTimer()
            }
            buffer?.discardReadBytes()
        } else {
            partialSince = nil
            buffer = nil
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        flushPendingWrites()
        context.fireChannelReadComplete()
    }

    private func process() throws(WireError) {
        guard var input = buffer else { return }
        defer { buffer = input }
        if phase == .awaitingPreface {
            guard let preface = try ClientPreface.read(from: &input) else { return }
            try acceptPreface(preface)
        }
        while phase == .open, let frame = try decoder.next(from: &input) {
            try handle(frame)
        }
    }

    private func acceptPreface(_ preface: ClientPreface) throws(WireError) {
        guard preface.negotiatedVersion() != nil else {
            throw .unsupportedVersion(min: preface.minVersion, max: preface.maxVersion)
        }
        let lz4 = settings.lz4 && preface.acceptsLZ4
        compression = CompressionPolicy(enabled: lz4, threshold: lz4 ? settings.lz4Threshold : .max)
        var out = allocate(Wire.serverPrefaceSize)
        ServerPreface(
            version: Wire.version, lz4: lz4, maxFrameSize: UInt32(clamping: settings.maxFrameSize),
            maxConcurrentStreams: UInt32(clamping: settings.maxConcurrentStreams)
        ).write(to: &out)
        write(out, flush: true)
        phase = .open
        partialSince = nil
    }

    private func handle(_ frame: Frame) throws(WireError) {
        switch frame.header.type {
        case .headers: try openStream(frame)
        case .message: try receiveMessage(frame)
        case .cancel: cancelStream(frame.header.streamID)
        case .ping:
            guard frame.header.length == 8 else { throw .protocolViolation("PING payload must be 8 bytes") }
            if !frame.header.flags.contains(.ack) {
                var out = allocate(Wire.frameHeaderSize + 8)
                FrameEncoder.write(.ping, flags: .ack, streamID: 0, payload: frame.payload.readableBytesView, to: &out)
                write(out, flush: true)
            }
        case .goAway:
            // The client is leaving: finish what is open, accept nothing new.
            draining = true
            closeIfDrained()
        case .trailers:
            throw .protocolViolation("clients must not send TRAILERS")
        }
    }

    // MARK: streams

    private func openStream(_ frame: Frame) throws(WireError) {
        let id = frame.header.streamID
        guard id > lastStreamID else {
            throw .protocolViolation("stream id \(id) is not above the last stream id \(lastStreamID)")
        }
        lastStreamID = id
        if frame.header.flags.contains(.compressed) {
            throw .protocolViolation("HEADERS frames cannot be compressed")
        }
        guard !draining else {
            return refuse(id, RPCError(.unavailable, "server is draining; retry on a new connection"))
        }
        guard streams.count < settings.maxConcurrentStreams else {
            return refuse(id, RPCError(.resourceExhausted,
                "too many concurrent streams on this connection (max_concurrent_streams = \(settings.maxConcurrentStreams))"))
        }
        let headers: DecodedHeaders
        if let last = lastHeaders, last.bytes == frame.payload {  // compares the readable bytes
            headers = last
        } else {
            do {
                headers = DecodedHeaders(payload: frame.payload, try Rampart_V1_RequestHeaders(serializedBytes: frame.payload))
            } catch {
                return refuse(id, RPCError(.invalidArgument, "malformed RequestHeaders: \(error)"))
            }
            lastHeaders = headers.bytes == nil ? nil : headers
        }
        guard let handler = dispatcher.handler(for: headers.method) else {
            return refuse(id, RPCError(.unimplemented, "unknown method \"\(headers.method.prefix(200))\""))
        }
        if frame.header.flags.contains(.endStream) {
            return refuse(id, RPCError(.invalidArgument, "request message missing (HEADERS had END_STREAM)"))
        }
        var deadline: NIODeadline?
        if headers.timeoutUs > 0 {
            deadline = .now() + .microseconds(Int64(clamping: min(headers.timeoutUs, UInt64(Int64.max / 1000))))
        }
        let callContext = CallContext(
            requestID: ids.next(), method: headers.method, streamID: id, peer: peer, metadata: headers.metadata,
            deadlineUptimeNanos: deadline.map { $0.uptimeNanoseconds })
        guard let context else { return }
        let responder = StreamResponder(
            context: callContext, eventLoop: context.eventLoop, compression: compression, connection: self)
        let stream = OpenStream(responder: responder, handler: handler, deadline: deadline)
        if let deadline {
            stream.deadlineTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                expire(id)
            }
        }
        streams[id] = stream
        metrics.streamOpened()
    }

    private func receiveMessage(_ frame: Frame) throws(WireError) {
        let id = frame.header.streamID
        guard let stream = streams[id] else {
            if id > lastStreamID { throw .protocolViolation("MESSAGE on stream \(id) that was never opened") }
            return  // a stream that already ended (error, cancel, deadline): ignore
        }
        guard !stream.receivedMessage else {
            return end(id, RPCError(.invalidArgument, "a request carries exactly one MESSAGE"))
        }
        guard frame.header.flags.contains(.endStream) else {
            return end(id, RPCError(.invalidArgument, "the request MESSAGE must carry END_STREAM"))
        }
        if let deadline = stream.deadline, deadline <= .now() {
            return end(id, RPCError(.deadlineExceeded, "deadline expired before the request was processed"))
        }
        stream.receivedMessage = true
        let call = ServerCall(
            responder: stream.responder, frame: frame, lz4Allowed: compression.enabled,
            maxMessageSize: settings.maxFrameSize)
        stream.handler(call)
    }

    private func cancelStream(_ id: UInt32) {
        guard streams[id] != nil else { return }
        end(id, RPCError(.cancelled, "cancelled by the client"))
    }

    private func expire(_ id: UInt32) {
        guard streams[id] != nil else { return }
        end(id, RPCError(.deadlineExceeded, "deadline exceeded"))
    }

    /// Ends an open stream with an error: cancels its work and sends trailers.
    private func end(_ id: UInt32, _ error: RPCError) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        stream.responder.cancel()
        stream.deadlineTask?.cancel()
        metrics.streamsEnded(1)
        var metadata = error.metadata
        metadata[StreamResponder.requestIDKey] = stream.responder.context.requestID
        var out = allocate(96 + error.message.utf8.count)
        StreamResponder.writeTrailers(
            Rampart_V1_Trailers(error.code, error.message, metadata: metadata), streamID: id, to: &out)
        write(out, flush: true)
        closeIfDrained()
    }

    /// Answers a stream that was never opened with trailers only.
    private func refuse(_ id: UInt32, _ error: RPCError) {
        metrics.refused()
        var out = allocate(64 + error.message.utf8.count)
        StreamResponder.writeTrailers(Rampart_V1_Trailers(error.code, error.message), streamID: id, to: &out)
        write(out, flush: true)
    }

    /// Called by a ``StreamResponder`` (on this event loop) with encoded frames.
    func emit(streamID: UInt32, bytes: ByteBuffer, final: Bool) {
        guard phase == .open else { return }
        if final {
            guard let stream = streams.removeValue(forKey: streamID) else { return }
            stream.deadlineTask?.cancel()
            metrics.streamsEnded(1)
        } else if streams[streamID] == nil {
            return
        }
        lastActivity = .now()
        write(bytes, flush: true)
        if final { closeIfDrained() }
    }

    // MARK: drain, errors, timers

    private func startDrain() {
        guard !draining, phase != .closed else { return }
        draining = true
        var goAway = Rampart_V1_GoAway()
        goAway.lastStreamID = lastStreamID
        goAway.message = "server is draining"
        sendGoAway(goAway)
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard draining, streams.isEmpty, phase != .closed, let context else { return }
        phase = .closed
        metrics.connectionClosed()
        flushPendingWrites()
        context.close(promise: nil)
    }

    private func fail(_ error: WireError) {
        logger.info("protocol error, closing connection", metadata: ["error": "\(error)"])
        if case .frameTooLarge(let streamID, _, _) = error, streamID != 0 {
            if streams[streamID] != nil {
                end(streamID, RPCError(.resourceExhausted, error.description))
            } else {
                refuse(streamID, RPCError(.resourceExhausted, error.description))
            }
        }
        if phase == .awaitingPreface {
            var out = allocate(Wire.serverPrefaceSize)
            ServerPreface.refused.write(to: &out)
            write(out, flush: false)
        }
        var goAway = Rampart_V1_GoAway()
        goAway.lastStreamID = lastStreamID
        goAway.code = error.code.rawValue
        goAway.message = error.description
        closeWithGoAway(goAway)
    }

    private func closeWithGoAway(_ goAway: Rampart_V1_GoAway) {
        guard phase != .closed, let context else { return }
        sendGoAway(goAway)
        phase = .closed
        metrics.connectionClosed()
        for (_, stream) in streams {
            stream.responder.cancel()
            stream.deadlineTask?.cancel()
        }
        metrics.streamsEnded(streams.count)
        streams.removeAll()
        flushPendingWrites()
        context.close(promise: nil)
    }

    private func sendGoAway(_ goAway: Rampart_V1_GoAway) {
        var out = allocate(64)
        try? FrameEncoder.writeMessage(goAway, type: .goAway, streamID: 0, to: &out)
        write(out, flush: true)
    }

    private func armReadTimer() {
        guard readTimer == nil, let since = partialSince, let context else { return }
        let timeout = TimeAmount.milliseconds(settings.readTimeoutMillis)
        readTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: since + timeout) { [self] in
            readTimerFired()
        }
    }

    private func readTimerFired() {
        readTimer = nil
        guard let since = partialSince else { return }
        if since + .milliseconds(settings.readTimeoutMillis) <= .now() {
            var goAway = Rampart_V1_GoAway()
            goAway.lastStreamID = lastStreamID
            goAway.code = StatusCode.deadlineExceeded.rawValue
            goAway.message = "read timeout: incomplete \(phase == .awaitingPreface ? "preface" : "frame") after \(settings.readTimeoutMillis) ms"
            logger.info("dropping slow connection", metadata: ["reason": "\(goAway.message)"])
            if phase == .awaitingPreface {
                var out = allocate(Wire.serverPrefaceSize)
                ServerPreface.refused.write(to: &out)
                write(out, flush: false)
            }
            closeWithGoAway(goAway)
        } else {
            armReadTimer()
        }
    }

    private func armIdleTimer() {
        guard let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(
            deadline: lastActivity + .milliseconds(settings.idleTimeoutMillis)
        ) { [self] in
            idleTimerFired()
        }
    }

    private func idleTimerFired() {
        guard phase != .closed else { return }
        if streams.isEmpty, lastActivity + .milliseconds(settings.idleTimeoutMillis) <= .now() {
            var goAway = Rampart_V1_GoAway()
            goAway.lastStreamID = lastStreamID
            goAway.message = "idle timeout"
            closeWithGoAway(goAway)
        } else {
            if !streams.isEmpty { lastActivity = .now() }
            armIdleTimer()
        }
    }

    // MARK: output

    private func allocate(_ capacity: Int) -> ByteBuffer {
        context?.channel.allocator.buffer(capacity: capacity) ?? ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Writes `bytes`; `flush` sends them now, or at the end of the current read batch when
    /// called while reading (see `inReadBatch`).
    private func write(_ bytes: ByteBuffer, flush: Bool) {
        guard let context else { return }
        context.write(wrapOutboundOut(bytes), promise: nil)
        guard flush else { return }
        if inReadBatch {
            flushPending = true
            answersSinceFlush += 1
            if settings.flushEvery > 0, answersSinceFlush >= settings.flushEvery {
                flushPendingWrites()
            }
        } else {
            context.flush()
        }
    }

    private func flushPendingWrites() {
        answersSinceFlush = 0
        guard flushPending, let context else { return }
        flushPending = false
        context.flush()
    }
}
