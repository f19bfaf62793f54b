import NIOCore
import RampartCore
import RampartWire
import SwiftProtobuf

/// One request as handed to a method handler: its context, its message and its responder.
public struct ServerCall: Sendable {
    public var context: CallContext { responder.context }
    /// Where the response goes.
    public let responder: StreamResponder
    let frame: Frame
    let lz4Allowed: Bool
    let maxMessageSize: Int

    /// The request message's bytes (decompressed); failures are INVALID_ARGUMENT.
    public func messageBytes() throws(RPCError) -> [UInt8] {
        do {
            let payload = try frame.messagePayload(lz4Allowed: lz4Allowed, limit: maxMessageSize)
            return Array(payload.readableBytesView)
        } catch {
            throw RPCError(.invalidArgument, error.description)
        }
    }

    /// Decodes the request message; failures are INVALID_ARGUMENT.
    public func decode<M: SwiftProtobuf.Message>(_ type: M.Type) throws(RPCError) -> M {
        try frame.decode(type, lz4Allowed: lz4Allowed, limit: maxMessageSize)
    }
}

/// A method handler. Called on the connection's event loop: it must not block. CPU-heavy or
/// blocking work goes to the server's worker pool.
public typealias MethodHandler = @Sendable (ServerCall) -> Void

/// Maps method paths to handlers (the only routing the server does).
public struct Dispatcher: Sendable {
    private var handlers: [String: MethodHandler] = [:]
    /// Consulted for paths without a registered handler (plugin-served methods, which change
    /// with every chain reload).
    public var fallback: (@Sendable (String) -> MethodHandler?)?

    public init() {}

    /// Replaces every registered handler whose path `filter` selects with `wrap(path, handler)`
    /// (e.g. the authorization gate around non-inference methods).
    public mutating func wrap(where filter: (String) -> Bool, _ wrap: (String, @escaping MethodHandler) -> MethodHandler) {
        for (path, handler) in handlers where filter(path) { handlers[path] = wrap(path, handler) }
    }

    /// Registers `handler` for `/package.Service/Method`.
    public mutating func register(_ path: String, _ handler: @escaping MethodHandler) {
        handlers[path] = handler
    }

    /// The handler for a path, if any.
    public func handler(for path: String) -> MethodHandler? { handlers[path] ?? fallback?(path) }

    /// Registered method paths, sorted.
    public var methods: [String] { handlers.keys.sorted() }
}
