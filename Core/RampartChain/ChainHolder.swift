import Synchronization

/// The live chain, swapped atomically on reload. Calls take the current chain once at their
/// start and keep it to the end, so a swap never changes a call mid-way.
public final class ChainHolder: Sendable {
    private let chain: Mutex<PluginChain>

    public init(_ chain: PluginChain = .empty) {
        self.chain = Mutex(chain)
    }

    /// The chain new calls use.
    public var current: PluginChain { chain.withLock { $0 } }

    /// Installs a new chain; returns the previous one.
    @discardableResult
    public func swap(_ next: PluginChain) -> PluginChain {
        chain.withLock { current in
            let previous = current
            current = next
            return previous
        }
    }
}
