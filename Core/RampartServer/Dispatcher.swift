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

    public init() {}

    /// Registers `handler` for `/package.Service/Method`.
    public mutating func register(_ path: String, _ handler: @escaping MethodHandler) {
        handlers[path] = handler
    }

    /// The handler for a path, if any.
    public func handler(for path: String) -> MethodHandler? { handlers[path] }

    /// Registered method paths, sorted.
    public var methods: [String] { handlers.keys.sorted() }
}
