import RampartChain
/// A host-owned output buffer handed to plugins as `rp_host_buf *`.
final class HostBuffer {
    var bytes: [UInt8] = []
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Appends unless the limit would be exceeded.
    func append(_ data: UnsafePointer<UInt8>, count: Int) -> Bool {
        guard count >= 0, bytes.count + count <= limit else { return false }
        bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        return true
    }

    func reset() { bytes.removeAll(keepingCapacity: true) }
}

/// Per-call state handed to plugins as `rp_call *`: collects the error message and log lines.
final class CallState {
    let plugin: String
    let signals: SignalStore
    let log: @Sendable (PluginLogLevel, String) -> Void
    /// The call's audit trail (ABI 1.1 `audit`); nil where the ABI allows no audit.
    let environment: ChainEnvironment?
    var errorMessage = ""

    init(plugin: String, signals: SignalStore, environment: ChainEnvironment? = nil,
         log: @escaping @Sendable (PluginLogLevel, String) -> Void) {
        self.plugin = plugin
        self.signals = signals
        self.environment = environment
        self.log = log
    }
}

/// A plugin's log levels.
public enum PluginLogLevel: Int32, Sendable {
    case debug = 0, info = 1, warning = 2, error = 3
}
