extension ThrottleConfig {
    /// Parses and validates config bytes (JSON or TOML, see ``ConfigValue/parse(_:)``).
    ///
    /// Strict: unknown keys, wrong types, zero or negative limits and impossible combinations are
    /// refused with a ``ThrottleConfigError`` naming the key, e.g.
    /// `throttle config: limits.key.requests.rate: must be greater than 0, got -5`.
    public static func parse(_ bytes: [UInt8]) throws(ThrottleConfigError) -> ThrottleConfig {
        try parse(ConfigValue.parse(bytes))
    }

    /// Validates a parsed document.
    public static func parse(_ document: ConfigValue) throws(ThrottleConfigError) -> ThrottleConfig {
        var config = ThrottleConfig()
        var root = try TableReader(document, path: "")
        if let mode = try root.choice("mode", ["local", "redis"]) { config.mode = ThrottleMode(rawValue: mode) ?? .local }
        if let headers = try root.bool("headers") { config.headers = headers }
        if let cooldown = try root.nonNegative("audit_cooldown_ms") { config.auditCooldownMicros = try micros(cooldown, at: "audit_cooldown_ms") }
        if let limits = root.value("limits") {
            config.defaults = try parseLimitSet(limits, base: LimitSet(), path: "limits")
        }
        if let roles = root.value("roles") {
            guard case .array(let entries) = roles else {
                throw ThrottleConfigError(path: "roles", "expected an array of tables ([[roles]]), got \(roles.kind)")
            }
            for (index, entry) in entries.enumerated() {
                let path = "roles[\(index)]"
                var table = try TableReader(entry, path: path)
                guard let name = try table.string("name"), !name.isEmpty else {
                    throw ThrottleConfigError(path: "\(path).name", "every role needs a non-empty name")
                }
                guard !config.roles.contains(where: { $0.name == name }) else {
                    throw ThrottleConfigError(path: "\(path).name", "duplicate role \"\(name)\"")
                }
                var rest: [(String, ConfigValue)] = []
                for key in table.keys where key != "name" {
                    if let value = table.value(key) { rest.append((key, value)) }
                }
                try table.finish()
                let limits = try parseLimitSet(.table(rest), base: config.defaults, path: path)
                config.roles.append(RoleLimits(name: name, limits: limits))
            }
        }
        if let tokens = root.value("tokens") { config.tokens = try parseTokens(tokens) }
        if let concurrency = root.value("concurrency") { config.concurrency = try parseConcurrency(concurrency) }
        if let adaptive = root.value("adaptive") { config.adaptive = try parseAdaptive(adaptive) }
        if let redis = root.value("redis") {
            config.redis = try parseRedis(redis)
        }
        try root.finish()
        return config
    }

    static func micros(_ millis: Int64, at path: String) throws(ThrottleConfigError) -> Int64 {
        let (value, overflow) = millis.multipliedReportingOverflow(by: 1000)
        guard !overflow, value <= RateLimit.maxToleranceMicros else {
            throw ThrottleConfigError(path: path, "\(millis) ms is longer than 10 years")
        }
        return value
    }

    static func parseLimitSet(_ value: ConfigValue, base: LimitSet, path: String) throws(ThrottleConfigError) -> LimitSet {
        var set = base
        var table = try TableReader(value, path: path)
        for scope in LimitScope.allCases {
            guard let scopeValue = table.value(scope.rawValue) else { continue }
            var scopeTable = try TableReader(scopeValue, path: table.at(scope.rawValue))
            if let requests = scopeTable.value("requests") {
                set[scope].requests = try parseRateLimit(requests, path: scopeTable.at("requests"))
            }
            if let tokens = scopeTable.value("tokens") {
                set[scope].tokens = try parseRateLimit(tokens, path: scopeTable.at("tokens"))
            }
            try scopeTable.finish()
        }
        if let concurrency = try table.positive("concurrency") { set.concurrency = concurrency }
        if let weight = try table.positive("weight") {
            guard weight <= 1000 else { throw ThrottleConfigError(path: table.at("weight"), "must be at most 1000, got \(weight)") }
            set.weight = weight
        }
        try table.finish()
        return set
    }

    /// `{ rate = 60, period_ms = 60000, burst = 10 }`; period defaults to one second, burst to rate − 1.
    static func parseRateLimit(_ value: ConfigValue, path: String) throws(ThrottleConfigError) -> RateLimit {
        var table = try TableReader(value, path: path)
        guard let rate = try table.integer("rate") else {
            throw ThrottleConfigError(path: table.at("rate"), "is required (units per period, greater than 0)")
        }
        guard rate > 0 else { throw ThrottleConfigError(path: table.at("rate"), "must be greater than 0, got \(rate)") }
        var periodMillis: Int64 = 1000
        if let period = try table.integer("period_ms") {
            guard period > 0 else { throw ThrottleConfigError(path: table.at("period_ms"), "must be greater than 0, got \(period)") }
            periodMillis = period
        }
        var burst = rate - 1
        if let value = try table.integer("burst") {
            guard value >= 0 else { throw ThrottleConfigError(path: table.at("burst"), "must not be negative, got \(value)") }
            burst = value
        }
        try table.finish()
        let limit = RateLimit(rate: rate, periodMicros: try micros(periodMillis, at: table.at("period_ms")), burst: burst)
        try limit.validate(at: path)
        return limit
    }

    static func parseTokens(_ value: ConfigValue) throws(ThrottleConfigError) -> TokenSettings {
        var settings = TokenSettings()
        var table = try TableReader(value, path: "tokens")
        if let policy = try table.choice("max_tokens_policy", ["clamp", "refuse"]) {
            settings.policy = MaxTokensPolicy(rawValue: policy) ?? .clamp
        }
        if let min = try table.positive("min_completion_tokens") { settings.minCompletionTokens = min }
        if let def = try table.positive("default_max_tokens") { settings.defaultMaxTokens = def }
        if let ceiling = try table.nonNegative("max_tokens_ceiling") { settings.maxTokensCeiling = ceiling }
        if let bytes = try table.positive("bytes_per_token") { settings.bytesPerToken = bytes }
        try table.finish()
        return settings
    }

    static func parseConcurrency(_ value: ConfigValue) throws(ThrottleConfigError) -> ConcurrencySettings {
        var settings = ConcurrencySettings()
        var table = try TableReader(value, path: "concurrency")
        if let pool = try table.positive("pool") { settings.pool = pool }
        if let queue = try table.choice("queue", ["wait", "reject"]) { settings.queue = QueueMode(rawValue: queue) ?? .wait }
        if let wait = try table.nonNegative("max_wait_ms") { settings.maxWaitMicros = try micros(wait, at: "concurrency.max_wait_ms") }
        if let waiters = try table.positive("max_waiters") { settings.maxWaiters = waiters }
        try table.finish()
        return settings
    }

    static func parseAdaptive(_ value: ConfigValue) throws(ThrottleConfigError) -> AdaptiveSettings {
        var settings = AdaptiveSettings()
        var table = try TableReader(value, path: "adaptive")
        if let start = try table.fraction("ramp_start_fraction", in: 0.001...1) { settings.rampStartFraction = start }
        if let ramp = try table.nonNegative("ramp_ms") { settings.rampMicros = try micros(ramp, at: "adaptive.ramp_ms") }
        if let threshold = try table.positive("auth_failure_threshold") { settings.authFailureThreshold = threshold }
        if let factor = try table.fraction("auth_failure_factor", in: 0.01...1) { settings.authFailureFactor = factor }
        if let threshold = try table.positive("denial_threshold") { settings.denialThreshold = threshold }
        if let factor = try table.fraction("denial_factor", in: 0.01...1) { settings.denialFactor = factor }
        if let halfLife = try table.positive("denial_half_life_ms") {
            settings.denialHalfLifeMicros = try micros(halfLife, at: "adaptive.denial_half_life_ms")
        }
        if let weight = try table.fraction("risk_weight", in: 0...1) { settings.riskWeight = weight }
        if let min = try table.fraction("min_fraction", in: 0.001...1) { settings.minFraction = min }
        try table.finish()
        return settings
    }

    static func parseRedis(_ value: ConfigValue) throws(ThrottleConfigError) -> RedisSettings {
        var settings = RedisSettings()
        var table = try TableReader(value, path: "redis")
        if let host = try table.string("host") {
            guard !host.isEmpty else { throw ThrottleConfigError(path: "redis.host", "must not be empty") }
            settings.host = host
        }
        if let port = try table.positive("port") {
            guard port <= 65535 else { throw ThrottleConfigError(path: "redis.port", "must be in 1 ... 65535, got \(port)") }
            settings.port = port
        }
        if let socket = try table.string("socket") {
            guard !socket.isEmpty else { throw ThrottleConfigError(path: "redis.socket", "must not be empty (delete it to use host and port)") }
            settings.socket = socket
        }
        if let password = try table.string("password") { settings.password = password }
        if let db = try table.nonNegative("database") { settings.database = db }
        if let prefix = try table.string("key_prefix") { settings.keyPrefix = prefix }
        if let ms = try table.positive("connect_timeout_ms") { settings.connectTimeoutMicros = try micros(ms, at: "redis.connect_timeout_ms") }
        if let ms = try table.positive("command_timeout_ms") { settings.commandTimeoutMicros = try micros(ms, at: "redis.command_timeout_ms") }
        if let size = try table.positive("pool_size") {
            guard size <= 256 else { throw ThrottleConfigError(path: "redis.pool_size", "must be at most 256, got \(size)") }
            settings.poolSize = size
        }
        if let mode = try table.choice("fail_mode", ["closed", "open"]) { settings.failMode = FailMode(rawValue: mode) ?? .closed }
        if let ms = try table.nonNegative("retry_interval_ms") { settings.retryIntervalMicros = try micros(ms, at: "redis.retry_interval_ms") }
        if let ms = try table.positive("lease_ms") {
            guard ms >= 1000 else { throw ThrottleConfigError(path: "redis.lease_ms", "must be at least 1000, got \(ms)") }
            settings.leaseMicros = try micros(ms, at: "redis.lease_ms")
        }
        try table.finish()
        return settings
    }
}
