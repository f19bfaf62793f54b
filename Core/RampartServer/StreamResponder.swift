import NIOCore
import RampartCore
import RampartProto
import RampartWire
import SwiftProtobuf
import Synchronization

/// Sends the response of one stream. Safe to use from any thread: frames are encoded on the
/// calling thread and handed to the connection's event loop in one hop.
///
/// After the stream ended (trailers sent, cancelled, deadline, disconnect) every send is a no-op.
public final class StreamResponder: Sendable {
    /// The call this responder answers.
    public let context: CallContext
    /// Set once when the call is cancelled (client CANCEL, deadline, disconnect, shutdown);
    /// backends stop when they see it. Held inline: no separate object per call.
    private let cancelled = Atomic<Bool>(false)

    let eventLoop: any EventLoop
    let compression: CompressionPolicy
    private let connection: NIOLoopBound<ConnectionHandler>

    init(context: CallContext, eventLoop: any EventLoop, compression: CompressionPolicy, connection: ConnectionHandler) {
        self.context = context
        self.eventLoop = eventLoop
        self.compression = compression
        self.connection = NIOLoopBound(connection, eventLoop: eventLoop)
    }

    /// Whether the call was cancelled.
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Marks the call cancelled; returns true if this call set it first.
    @discardableResult
    func cancel() -> Bool { !cancelled.exchange(true, ordering: .acquiringAndReleasing) }

    /// Sends one response message.
    public func send(_ message: some SwiftProtobuf.Message) {
        guard !isCancelled else { return }
        let buffer: ByteBuffer
        do {
            buffer = try FrameEncoder.frame(message, streamID: context.streamID, compression: compression)
        } catch {
            finish(RPCError(.internal, "could not encode the response: \(error)"))
            return
        }
        deliver(buffer, final: false)
    }

    /// Sends the last message and OK trailers in one write (unary responses). The trailers carry
    /// `metadata` and the request id.
    public func finish(with message: some SwiftProtobuf.Message, metadata: [String: String] = [:]) {
        guard !isCancelled else { return }
        var buffer: ByteBuffer
        do {
            // Encoded in place, with room behind it for the trailers: one buffer for both.
            buffer = try FrameEncoder.frame(message, streamID: context.streamID, compression: compression)
        } catch {
            finish(RPCError(.internal, "could not encode the response: \(error)"))
            return
        }
        writeOKTrailers(metadata, to: &buffer)
        deliver(buffer, final: true)
    }

    /// Sends an already serialized last message and OK trailers in one write (plugin-served methods).
    public func finish(serialized bytes: [UInt8], metadata: [String: String] = [:]) {
        guard !isCancelled else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count + 128)
        FrameEncoder.writeSerialized(ByteBuffer(bytes: bytes), streamID: context.streamID, compression: compression, to: &buffer)
        writeOKTrailers(metadata, to: &buffer)
        deliver(buffer, final: true)
    }

    /// Ends the stream with OK trailers carrying `metadata` and the request id.
    public func finish(metadata: [String: String] = [:]) {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        writeOKTrailers(metadata, to: &buffer)
        deliver(buffer, final: true)
    }

    /// OK trailers with the request id added to `metadata` (the server's id wins over a
    /// plugin's); with no other metadata, swift-protobuf is skipped (same bytes).
    private func writeOKTrailers(_ metadata: [String: String], to buffer: inout ByteBuffer) {
        if metadata.isEmpty {
            TrailersFastPath.writeOK(metadataKey: Self.requestIDKey, value: context.requestID, streamID: context.streamID, to: &buffer)
        } else {
            var metadata = metadata
            metadata[Self.requestIDKey] = context.requestID
            Self.writeTrailers(Rampart_V1_Trailers(.ok, metadata: metadata), streamID: context.streamID, to: &buffer)
        }
    }

    /// The trailer metadata key of the server's request id.
    static let requestIDKey = "rampart-request-id"

    /// Ends the stream with an error status (the request id is added to the trailer metadata).
    public func finish(_ error: RPCError) {
        var metadata = error.metadata
        metadata[Self.requestIDKey] = context.requestID
        finish(trailers: Rampart_V1_Trailers(error.code, error.message, metadata: metadata))
    }

    func finish(trailers: Rampart_V1_Trailers) {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        Self.writeTrailers(trailers, streamID: context.streamID, to: &buffer)
        deliver(buffer, final: true)
    }

    static func writeTrailers(_ trailers: Rampart_V1_Trailers, streamID: UInt32, to buffer: inout ByteBuffer) {
        // Trailers are tiny and always encodable; a failure here is a programming error.
        try? FrameEncoder.writeMessage(trailers, type: .trailers, flags: .endStream, streamID: streamID, to: &buffer)
    }

    private func deliver(_ buffer: ByteBuffer, final: Bool) {
        if eventLoop.inEventLoop {
            connection.value.emit(streamID: context.streamID, bytes: buffer, final: final)
        } else {
            let connection = self.connection
            let streamID = context.streamID
            eventLoop.execute { connection.value.emit(streamID: streamID, bytes: buffer, final: final) }
        }
    }
}
