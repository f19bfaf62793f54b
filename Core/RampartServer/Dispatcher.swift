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
        Array(try payload().readableBytesView)
    }

    /// The request message's bytes (decompressed) without a copy; failures are INVALID_ARGUMENT.
    func payload() throws(RPCError) -> ByteBuffer {
        do {
            return try frame.messagePayload(lz4Allowed: lz4Allowed, limit: maxMessageSize)
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
    /// A handler wrapped so that the dictionary stores the closure as it is: a bare closure value
    /// in a generic container is re-abstracted, which allocates a thunk on every lookup.
    private struct Entry: Sendable {
        let handler: MethodHandler
    }

    private var handlers: [String: Entry] = [:]
    /// Consulted for paths without a registered handler (plugin-served methods, which change
    /// with every chain reload).
    public var fallback: (@Sendable (String) -> MethodHandler?)?

    public init() {}

    /// Replaces every registered handler whose path `filter` selects with `wrap(path, handler)`
    /// (e.g. the authorization gate around non-inference methods).
    public mutating func wrap(where filter: (String) -> Bool, _ wrap: (String, @escaping MethodHandler) -> MethodHandler) {
        for (path, entry) in handlers where filter(path) { handlers[path] = Entry(handler: wrap(path, entry.handler)) }
    }

    /// Registers `handler` for `/package.Service/Method`.
    public mutating func register(_ path: String, _ handler: @escaping MethodHandler) {
        handlers[path] = Entry(handler: handler)
    }

    /// The handler for a path, if any.
    ///
    /// Not written with `??`: the operator is generic, so a closure passed through it is
    /// re-abstracted there and back, two thunk allocations on every call.
    public func handler(for path: String) -> MethodHandler? {
        if let entry = handlers[path] { return entry.handler }
        guard let fallback else { return nil }
        return fallback(path)
    }

    /// Registered method paths, sorted.
    public var methods: [String] { handlers.keys.sorted() }
}
