import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RampartCore
import RampartProto
import RampartWire
import SwiftProtobuf
import Synchronization

/// Per-call options.
public struct CallOptions: Sendable {
    /// Deadline relative to the call's start; nil means none.
    public var timeout: Duration?
    /// Request metadata (text values).
    public var metadata: [String: String]

    public init(timeout: Duration? = nil, metadata: [String: String] = [:]) {
        self.timeout = timeout
        self.metadata = metadata
    }
}

/// A connection to a Rampart sidecar over its Unix socket.
///
/// One connection carries many concurrent calls (streams); share it. Calls are cancelled when
/// their task is cancelled (the server then stops generating). Errors are ``RPCError``s with the
/// server's status code.
///
/// ```swift
/// let client = try await RampartClient.connect(socketPath: "run/rampart.sock")
/// var request = Rampart_V1_GenerateRequest()
/// request.prompt = "The sidecar"
/// for try await chunk in client.generateStream(request) { print(chunk.text, terminator: "") }
/// ```
public final class RampartClient: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<ClientConnectionHandler>
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let pending = PendingStarts()
    /// Set by ``close()``: later calls fail at once (the event loop may be gone, and a call
    /// handed to a stopped loop would never be answered).
    private let closed = Atomic<Bool>(false)
    /// The server's preface (version, LZ4, limits).
    public let serverPreface: ServerPreface
    /// Runs tasks on this connection's event loop; see ``EventLoopTaskExecutor``.
    public let taskExecutor: EventLoopTaskExecutor

    private init(channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>, group: MultiThreadedEventLoopGroup?, preface: ServerPreface) {
        self.channel = channel
        self.handler = handler
        self.ownedGroup = group
        self.serverPreface = preface
        self.taskExecutor = EventLoopTaskExecutor(eventLoop: channel.eventLoop)
    }

    /// Connects and completes the preface exchange.
    /// - Parameters:
    ///   - socketPath: the sidecar's Unix socket.
    ///   - lz4: offer LZ4 compression.
    ///   - group: event loops to use; by default the client owns a one-thread group.
    public static func connect(
        socketPath: String, lz4: Bool = true, group: (any EventLoopGroup)? = nil
    ) async throws -> RampartClient {
        let owned: MultiThreadedEventLoopGroup?
        let loopGroup: any EventLoopGroup
        if let group {
            owned = nil
            loopGroup = group
        } else {
            let own = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            owned = own
            loopGroup = own
        }
        let eventLoop = loopGroup.next()
        let prefacePromise = eventLoop.makePromise(of: ServerPreface.self)
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ClientConnectionHandler(prefacePromise: prefacePromise, acceptLZ4: lz4))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self), eventLoop: channel.eventLoop)
            }.get()
            let preface = try await prefacePromise.futureResult.get()
            return RampartClient(channel: channel, handler: handler, group: owned, preface: preface)
        } catch {
            prefacePromise.fail(error)
            try? await owned?.shutdownGracefully()
            throw error
        }
    }

    /// Closes the connection (open calls end with UNAVAILABLE).
    public func close() async {
        closed.store(true, ordering: .releasing)
        taskExecutor.close()
        try? await channel.close()
        try? await ownedGroup?.shutdownGracefully()
    }

    // MARK: typed calls

    /// `Inference.Generate`: one response with the whole completion.
    public func generate(_ request: Rampart_V1_GenerateRequest, options: CallOptions = CallOptions()) async throws -> Rampart_V1_GenerateResponse {
        let bytes = try await unaryRaw(InferenceMethods.generate, payload: try request.serializedBytes(), options: options)
        return try Rampart_V1_GenerateResponse(viaTextView: bytes)  // the text validated word at a time
    }

    /// `Inference.GenerateStream`: chunks as tokens are generated. Ending the iteration early
    /// (or cancelling the task) cancels the call on the server.
    public func generateStream(_ request: Rampart_V1_GenerateRequest, options: CallOptions = CallOptions()) -> AsyncThrowingStream<Rampart_V1_GenerateChunk, any Error> {
        serverStreaming(InferenceMethods.generateStream, request, options: options)
    }

    /// `Health.Check`.
    public func health(service: String = "", options: CallOptions = CallOptions()) async throws -> Rampart_V1_HealthCheckResponse {
        var request = Rampart_V1_HealthCheckRequest()
        request.service = service
        return try await unary("/rampart.v1.Health/Check", request, options: options)
    }

    // MARK: generic calls

    /// A unary call of any method.
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: Request, options: CallOptions = CallOptions(), as: Response.Type = Response.self
    ) async throws -> Response {
        let bytes = try await unaryRaw(method, payload: try request.serializedBytes(), options: options)
        return try Response(serializedBytes: bytes)
    }

    /// A unary call with a pre-serialized request; returns the raw response message.
    public func unaryRaw(_ method: String, payload: ByteBuffer, options: CallOptions = CallOptions()) async throws -> ByteBuffer {
        let box = UnaryState()
        return try await withTaskCancellationHandler {
            // Unsafe (unchecked) continuation: resumed exactly once, by the call's single TRAILERS
            // event (the handler's `finish` delivers it once, whatever ends the call) or by the
            // refusal below; the checked variant costs an allocation per call.
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<ByteBuffer, any Error>) in
                let call = ClientCall { event in
                    switch event {
                    case .headers: break
                    case .message(let message): box.message = message
                    case .trailers(let trailers):
                        // The box holds the call and the call's closure holds the box: break the
                        // cycle, or every call (and its answer) would stay alive for good.
                        let message = box.detach()
                        if trailers.status == .ok, let message {
                            continuation.resume(returning: message)
                        } else if trailers.status == .ok {
                            continuation.resume(throwing: RPCError(.internal, "server sent OK without a response message"))
                        } else {
                            continuation.resume(throwing: RPCError(trailers.status, trailers.message, metadata: trailers.textMetadata))
                        }
                    }
                }
                guard box.attach(call) else {
                    _ = box.detach()
                    return continuation.resume(throwing: RPCError(.cancelled, "cancelled by the caller"))
                }
                start(call, method: method, payload: payload, options: options)
            }
        } onCancel: {
            cancel(box, reason: RPCError(.cancelled, "cancelled by the caller"))
        }
    }

    /// A server-streaming call of any method.
    public func serverStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: Request, options: CallOptions = CallOptions(), as: Response.Type = Response.self
    ) -> AsyncThrowingStream<Response, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Response, any Error>.makeStream()
        let payload: ByteBuffer
        do {
            payload = try request.serializedBytes()
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let box = UnaryState()
        let call = ClientCall { event in
            switch event {
            case .headers: break
            case .message(let bytes):
                do {
                    continuation.yield(try Response(serializedBytes: bytes))
                } catch {
                    continuation.finish(throwing: RPCError(.internal, "malformed \(Response.protoMessageName) from server"))
                }
            case .trailers(let trailers):
                _ = box.detach()
                if trailers.status == .ok {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: RPCError(trailers.status, trailers.message, metadata: trailers.textMetadata))
                }
            }
        }
        _ = box.attach(call)
        continuation.onTermination = { [self] termination in
            if case .cancelled = termination { cancel(box, reason: RPCError(.cancelled, "cancelled by the caller")) }
        }
        start(call, method: method, payload: payload, options: options)
        return stream
    }

    /// Sends a PING (the server answers with an ACK; no reply is surfaced).
    public func ping() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.ping(0x5241_4D50_4152_5421) }
    }

    private func start(_ call: ClientCall, method: String, payload: ByteBuffer, options: CallOptions) {
        guard !closed.load(ordering: .acquiring) else {
            call.onEvent(.trailers(Rampart_V1_Trailers(.unavailable, "the client is closed")))
            return
        }
        var headers = Rampart_V1_RequestHeaders()
        headers.method = method
        if let timeout = options.timeout {
            let (seconds, attoseconds) = timeout.components
            let micros = max(1, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
            headers.timeoutUs = UInt64(clamping: micros)
        }
        headers.metadata = options.metadata.sorted { $0.key < $1.key }.map { Rampart_V1_MetadataEntry(key: $0.key, text: $0.value) }
        let handler = self.handler
        let eventLoop = channel.eventLoop
        if pending.append(PendingStarts.Start(call: call, headers: headers, payload: payload)) {
            let pending = self.pending
            eventLoop.execute { handler.value.start(pending.take()) }
        }
        if let timeout = options.timeout {
            // Client-side backstop: report DEADLINE_EXCEEDED even if the server never answers.
            let grace = TimeAmount.nanoseconds(Int64(clamping: timeout.components.seconds) * 1_000_000_000
                + Int64(timeout.components.attoseconds / 1_000_000_000)) + .milliseconds(50)
            eventLoop.scheduleTask(in: grace) {
                handler.value.cancel(call, reason: RPCError(.deadlineExceeded, "deadline exceeded (no answer from the server)"))
            }
        }
    }

    private func cancel(_ box: UnaryState, reason: RPCError) {
        guard let call = box.markCancelled() else { return }
        let handler = self.handler
        channel.eventLoop.execute { handler.value.cancel(call, reason: reason) }
    }
}

/// Method paths of `rampart.v1.Inference`.
public enum InferenceMethods {
    public static let generate = "/rampart.v1.Inference/Generate"
    public static let generateStream = "/rampart.v1.Inference/GenerateStream"
}

/// Per-call state shared between the caller, the event loop and the cancellation handler.
private final class UnaryState: @unchecked Sendable {
    private let lock = NIOLock()
    private var call: ClientCall?
    private var cancelled = false
    /// The response message; touched only on the event loop.
    var message: ByteBuffer?

    /// Records the call; false if the caller was cancelled before it started.
    func attach(_ call: ClientCall) -> Bool {
        lock.withLock {
            self.call = call
            return !cancelled
        }
    }

    /// Forgets the call (it ended) and hands over the response message.
    func detach() -> ByteBuffer? {
        lock.withLock { call = nil }
        defer { message = nil }
        return message
    }

    /// Marks the call cancelled; returns it if it already started.
    func markCancelled() -> ClientCall? {
        lock.withLock {
            cancelled = true
            return call
        }
    }
}
