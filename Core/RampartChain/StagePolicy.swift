/// What happens when a plugin fails (errors, crashes, times out, returns garbage).
public enum FailureMode: String, Sendable, Hashable {
    /// Deny the call (the default: a security product fails closed).
    case closed
    /// Log, count the error and continue as if the plugin passed.
    case open
}

/// How one plugin runs in the chain.
public struct StagePolicy: Sendable, Hashable {
    public var failureMode: FailureMode
    /// Longest a hook may take. In-process native code cannot be pre-empted: an overrun is
    /// detected when the call returns and treated as a failure; process isolation kills the child.
    public var timeout: Duration

    public init(failureMode: FailureMode = .closed, timeout: Duration = .milliseconds(100)) {
        self.failureMode = failureMode
        self.timeout = timeout
    }
}

/// A plugin with its policy and counters: one position in the chain.
public final class ChainStage: Sendable {
    public let plugin: any ChainPlugin
    public let policy: StagePolicy
    public let stats = StageStats()
    /// `plugin.hooks`, read once (the chain asks on every hook of every call).
    public let hooks: ChainHooks
    /// `policy.timeout` in nanoseconds (saturated), compared with ``monotonicNanos()`` readings.
    let timeoutNanos: UInt64

    public init(plugin: any ChainPlugin, policy: StagePolicy = StagePolicy()) {
        self.plugin = plugin
        self.policy = policy
        self.hooks = plugin.hooks
        let (seconds, attoseconds) = policy.timeout.components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) {
            timeoutNanos = 0
        } else {
            let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
            timeoutNanos = overflow ? .max : whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000)).partialValue
        }
    }

    public var name: String { plugin.name }
}
