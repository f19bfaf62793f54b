import CRampartSystem
import Logging
import NIOCore
import NIOPosix
import RampartChain
import RampartCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start.
public struct ServerStartError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The Rampart sidecar server: a Unix socket, the framed protocol, the dispatcher and a backend.
///
/// ```swift
/// let server = try RampartServer.start(settings: settings, backend: model, logger: logger)
/// // … later, on SIGTERM:
/// await server.drain()
/// ```
public final class RampartServer: Sendable {
    public let settings: ServerSettings
    public let metrics: ServerMetrics
    public let backend: any InferenceBackend
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let listener: any Channel
    private let connections: ConnectionRegistry
    private let drainFlag: DrainFlag
    private let logger: Logger

    private init(
        settings: ServerSettings, metrics: ServerMetrics, backend: any InferenceBackend,
        group: MultiThreadedEventLoopGroup, pool: NIOThreadPool, listener: any Channel,
        connections: ConnectionRegistry, drainFlag: DrainFlag, logger: Logger
    ) {
        self.settings = settings
        self.metrics = metrics
        self.backend = backend
        self.group = group
        self.pool = pool
        self.listener = listener
        self.connections = connections
        self.drainFlag = drainFlag
        self.logger = logger
    }

    /// Binds the socket and starts serving. Refuses a live socket; replaces a stale one.
    /// - Parameter extraMethods: registers additional methods (embedding applications and tests).
    /// - Parameter chains: the plugin chain (swap its content to reload).
    public static func start(
        settings: ServerSettings, backend: any InferenceBackend, logger: Logger,
        chains: ChainHolder = ChainHolder(),
        extraMethods: (inout Dispatcher) -> Void = { _ in }
    ) throws -> RampartServer {
        try prepareSocketPath(settings.socketPath)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, settings.eventLoopThreads))
        let pool = NIOThreadPool(numberOfThreads: max(1, settings.workerThreads))
        pool.start()
        let metrics = ServerMetrics()
        let registry = ConnectionRegistry()
        let drainingFlag = DrainFlag()
        let pipeline = ServerPipeline(
            settings: settings, backend: backend, pool: pool, chains: chains, metrics: metrics, logger: logger,
            isDraining: { drainingFlag.isSet }, extraMethods: extraMethods)

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator())
            .childChannelInitializer { channel in
                registry.add(channel)
                channel.closeFuture.whenComplete { _ in registry.remove(channel) }
                return channel.eventLoop.makeCompletedFuture { try pipeline.addHandlers(to: channel) }
            }

        // Create the socket with no group/other bits, then widen to the configured mode.
        let previousMask = rampart_set_umask(0o177)
        let listener: any Channel
        do {
            listener = try bootstrap.bind(unixDomainSocketPath: settings.socketPath, cleanupExistingSocketFile: false).wait()
        } catch {
            _ = rampart_set_umask(previousMask)
            try? pool.syncShutdownGracefully()
            try? group.syncShutdownGracefully()
            throw ServerStartError("cannot listen on \(settings.socketPath): \(error)")
        }
        _ = rampart_set_umask(previousMask)
        do {
            try applyPermissions(settings)
        } catch {
            listener.close(promise: nil)
            unlink(settings.socketPath)
            throw error
        }
        let server = RampartServer(
            settings: settings, metrics: metrics, backend: backend, group: group, pool: pool, listener: listener,
            connections: registry, drainFlag: drainingFlag, logger: logger)
        logger.info("rampart listening", metadata: [
            "socket": "\(settings.socketPath)", "model": "\(backend.model.name)@\(backend.model.version)",
            "backend": "\(backend.model.backend)", "flush_every": "\(settings.flushEvery)",
        ])
        return server
    }

    /// Whether a drain has begun.
    public var isDraining: Bool { drainFlag.isSet }

    /// Stops accepting, sends GOAWAY to every connection, lets in-flight streams finish (up to the
    /// drain timeout), then closes what remains and releases the socket path.
    public func drain() async {
        guard !drainFlag.flag.exchange(true, ordering: .relaxed) else { return }
        logger.info("draining", metadata: ["connections": "\(metrics.connections)", "streams": "\(metrics.streams)"])
        try? await listener.close()
        unlink(settings.socketPath)
        for channel in connections.channels.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let deadline = ContinuousClock.now + .milliseconds(settings.drainTimeoutMillis)
        while ContinuousClock.now < deadline, !connections.channels.withLock({ $0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in connections.channels.withLock({ Array($0.values) }) {
            try? await channel.close()
        }
        logger.info("drained")
    }

    /// Drains, then stops the event loops and the worker pool.
    public func shutdown() async {
        await drain()
        try? await pool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }

    // MARK: socket file

    /// Refuses a live socket or a non-socket file; removes a stale socket.
    static func prepareSocketPath(_ path: String) throws {
        guard path.utf8.count < 108 else {
            throw ServerStartError("socket path is \(path.utf8.count) bytes; Unix sockets allow at most 107: \(path)")
        }
        let probe = rampart_probe_unix_socket(path)
        let err = errno
        switch probe {
        case 1:
            throw ServerStartError("another server is already listening on \(path); refusing to start")
        case 0:
            guard unlink(path) == 0 else {
                throw ServerStartError("cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
            }
        default:
            if err == ENOENT { return }
            if err == ENOTSOCK { throw ServerStartError("\(path) exists and is not a socket; refusing to replace it") }
            throw ServerStartError("cannot probe \(path): \(String(cString: strerror(err)))")
        }
    }

    static func applyPermissions(_ settings: ServerSettings) throws {
        if let group = settings.socketGroup {
            let gid: gid_t
            if let numeric = gid_t(group) {
                gid = numeric
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw ServerStartError("socket_group \"\(group)\" does not exist")
            }
            guard chown(settings.socketPath, uid_t.max, gid) == 0 else {
                throw ServerStartError("cannot set group of \(settings.socketPath): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(settings.socketPath, mode_t(settings.socketMode)) == 0 else {
            throw ServerStartError("cannot chmod \(settings.socketPath): \(String(cString: strerror(errno)))")
        }
    }
}

/// The set of open connections (for drain).
private final class ConnectionRegistry: Sendable {
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    func add(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ channel: any Channel) { _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) } }
}

private final class DrainFlag: Sendable {
    let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
