import Logging
import NIOCore
import NIOPosix
import RampartChain
import RampartCore

/// What serves one connection, independent of the socket it arrives on: the dispatcher with
/// every service registered, the authorization gate, and a factory for the per-connection
/// protocol handler.
///
/// ``RampartServer`` installs it on every accepted Unix-socket connection; an embedding
/// application, a test or an in-process benchmark can install it on any `Channel` (an
/// `EmbeddedChannel` included) and get exactly the server's behaviour without I/O.
public struct ServerPipeline: Sendable {
    public let settings: ServerSettings
    let dispatcher: Dispatcher
    let ids: RequestIDGenerator
    let metrics: ServerMetrics
    let logger: Logger

    /// Registers inference, health and `extraMethods`, then puts every method but inference
    /// behind the chain's gate (authentication, RBAC); unknown paths may be plugin-served.
    /// - Parameter pool: where blocking work (plugins, the embedded model) runs.
    public init(
        settings: ServerSettings, backend: any InferenceBackend, pool: NIOThreadPool,
        chains: ChainHolder = ChainHolder(), metrics: ServerMetrics = ServerMetrics(), logger: Logger,
        isDraining: @escaping @Sendable () -> Bool = { false },
        extraMethods: (inout Dispatcher) -> Void = { _ in }
    ) {
        var dispatcher = Dispatcher()
        InferenceService(backend: backend, limits: settings.limits, pool: pool, chains: chains).register(in: &dispatcher)
        HealthService(model: backend.model, metrics: metrics, isDraining: isDraining).register(in: &dispatcher)
        extraMethods(&dispatcher)
        let gate = ChainGate(chains: chains, pool: pool)
        let inference: Set = [InferenceService.generate, InferenceService.generateStream]
        dispatcher.wrap(where: { !inference.contains($0) }) { _, handler in gate.gated(handler) }
        dispatcher.fallback = { gate.pluginMethod($0) }
        self.settings = settings
        self.dispatcher = dispatcher
        self.ids = RequestIDGenerator()
        self.metrics = metrics
        self.logger = logger
    }

    /// Adds the connection's protocol handler to `channel`'s pipeline. Call on its event loop.
    public func addHandlers(to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(settings: settings, dispatcher: dispatcher, ids: ids, metrics: metrics, logger: logger))
    }
}
