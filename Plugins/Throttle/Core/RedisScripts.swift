import Synchronization

/// A Lua script run with EVALSHA, falling back to EVAL when the server does not know it
/// (NOSCRIPT: a restarted or flushed Redis), which also caches it again.
public final class RedisScript: Sendable {
    public let name: String
    public let source: String
    private let sha = Mutex<String?>(nil)

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }

    /// Runs the script with `keys` and `args`; a Redis error reply throws.
    public func run(on pool: RedisConnectionPool, keys: [String], args: [String]) throws(StoreError) -> RedisReply {
        let tail = [String(keys.count)] + keys + args
        if let known = sha.withLock({ $0 }) {
            let reply = try pool.command(["EVALSHA", known] + tail)
            if case .error(let text) = reply, text.hasPrefix("NOSCRIPT") {
                sha.withLock { $0 = nil }
            } else {
                return try Self.checked(reply, name)
            }
        }
        let reply = try Self.checked(try pool.command(["EVAL", source] + tail), name)
        if case .string(let digest) = try pool.command(["SCRIPT", "LOAD", source]) {
            sha.withLock { $0 = digest }
        }
        return reply
    }

    static func checked(_ reply: RedisReply, _ name: String) throws(StoreError) -> RedisReply {
        if case .error(let text) = reply { throw StoreError("redis script \(name) failed: \(text)") }
        return reply
    }
}

/// The throttle's server-side scripts. Each reads the time with `TIME` inside the script, so the
/// sidecars' clocks do not matter, and runs atomically (Redis executes one script at a time).
enum ThrottleScripts {
    /// Prologue: `now` in microseconds from the server clock; effect replication for TIME + writes.
    static let now = """
        if redis.replicate_commands then pcall(redis.replicate_commands) end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local function put(key, tat)
          local ttl = tat - now
          if ttl > 0 then
            redis.call('SET', key, string.format('%.0f', tat), 'PX', math.ceil(ttl / 1000))
          else
            redis.call('DEL', key)
          end
        end

        """

    /// The GCRA check over `n` TAT keys (`KEYS[1…n]`), all or nothing (the steps of
    /// ``PlanEvaluator``): leaves the reply in `out`. ARGV: want, min, clamp(0|1), then per key
    /// T, tau, fixed, flexible(0|1).
    static let admitBody = """
        local want = tonumber(ARGV[1]); local minv = tonumber(ARGV[2]); local clamp = ARGV[3] == '1'
        local T, tau, fixed, flex, tat = {}, {}, {}, {}, {}
        for i = 1, n do
          local b = 3 + (i - 1) * 4
          T[i] = tonumber(ARGV[b + 1]); tau[i] = tonumber(ARGV[b + 2])
          fixed[i] = tonumber(ARGV[b + 3]); flex[i] = ARGV[b + 4] == '1'
          local v = now
          local s = redis.call('GET', KEYS[i])
          if s then v = tonumber(s) end
          if v > now + tau[i] then
            v = now + tau[i]
            put(KEYS[i], v)
          end
          tat[i] = v
        end
        local var = want
        if clamp then
          local avail = want
          for i = 1, n do
            if flex[i] then
              local used = math.max(0, tat[i] - now)
              local a = math.floor(math.max(0, tau[i] - used) / T[i]) - fixed[i]
              if a < avail then avail = a end
            end
          end
          var = math.min(want, math.max(avail, math.min(want, minv)))
        end
        local out = {1, var, now}
        local newtat = {}
        for i = 1, n do
          local q = fixed[i]
          if flex[i] then q = q + var end
          local inc = T[i] * q
          local nt = math.max(now, tat[i]) + inc
          local diff = now - (nt - tau[i])
          local ttl, retry, limited
          if diff < 0 then
            out[1] = 0
            limited = 1
            ttl = math.max(0, tat[i] - now)
            if inc <= tau[i] then retry = -diff else retry = -1 end
          else
            limited = 0
            ttl = nt - now
            retry = -1
            newtat[i] = nt
          end
          local nx = tau[i] - ttl
          local rem = 0
          if nx > 0 then rem = math.floor(nx / T[i]) end
          out[#out + 1] = rem; out[#out + 1] = ttl; out[#out + 1] = retry; out[#out + 1] = limited
        end
        if out[1] == 1 then
          for i = 1, n do put(KEYS[i], newtat[i]) end
        end

        """

    /// GCRA over several keys, all or nothing. KEYS: the TAT keys. ARGV as ``admitBody``.
    /// Returns {admitted(0|1), variable, now, then per key remaining, reset_after, retry_after, limited}.
    static let admit = RedisScript(name: "admit", source: now + "local n = #KEYS\n" + admitBody + "return out\n")

    /// `acquire(key set, pool set, key cap, pool cap, member, lease ms)`: a concurrency slot in
    /// the key's and the pool's lease sets (sorted sets scored by expiry in ms; a cap of 0 = none).
    /// Returns 1 (taken), -1 (key full), -2 (pool full).
    static let acquireFunction = """
        local function acquire(kset, pset, kc, pc, member, lease)
          local nowms = math.floor(now / 1000)
          if kc > 0 then
            redis.call('ZREMRANGEBYSCORE', kset, '-inf', nowms)
            if redis.call('ZCARD', kset) >= kc then return -1 end
          end
          if pc > 0 then
            redis.call('ZREMRANGEBYSCORE', pset, '-inf', nowms)
            if redis.call('ZCARD', pset) >= pc then return -2 end
          end
          if kc > 0 then
            redis.call('ZADD', kset, nowms + lease, member); redis.call('PEXPIRE', kset, lease * 2)
          end
          if pc > 0 then
            redis.call('ZADD', pset, nowms + lease, member); redis.call('PEXPIRE', pset, lease * 2)
          end
          return 1
        end

        """

    /// An admission and its concurrency slot in one round trip. KEYS: the n TAT keys, then the key
    /// set and the pool set. ARGV: as ``admitBody``, then key cap, pool cap, member, lease ms.
    /// Returns ``admit``'s reply plus the slot result (0 = not tried: the budgets refused; else as
    /// `acquire`). A refused slot keeps the budgets charged, as when the slot is taken apart.
    static let admitAcquire = RedisScript(name: "admit_acquire", source: now + acquireFunction + "local n = #KEYS - 2\n" + admitBody + """
        local slot = 0
        if out[1] == 1 then
          local a = 4 + n * 4
          slot = acquire(KEYS[n + 1], KEYS[n + 2], tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2], tonumber(ARGV[a + 3]))
        end
        out[#out + 1] = slot
        return out

        """)

    /// Refunds and the end of a call in one round trip: units given back, then a slot's leases
    /// left. KEYS: r TAT keys, then the lease sets to leave (none for a plain refund). ARGV: r,
    /// per TAT key T, tau, units, then the lease member.
    static let finish = RedisScript(name: "finish", source: now + """
        local r = tonumber(ARGV[1])
        for i = 1, r do
          local b = 1 + (i - 1) * 3
          local T = tonumber(ARGV[b + 1]); local tau = tonumber(ARGV[b + 2]); local units = tonumber(ARGV[b + 3])
          local s = redis.call('GET', KEYS[i])
          if s then
            local v = math.min(tonumber(s), now + tau) - T * units
            put(KEYS[i], v)
          end
        end
        local member = ARGV[2 + 3 * r]
        for i = r + 1, #KEYS do redis.call('ZREM', KEYS[i], member) end
        return 1
        """)

    /// First-seen time of a subject. KEYS[1]: the key. ARGV[1]: TTL in seconds.
    static let firstSeen = RedisScript(name: "first_seen", source: now + """
        local s = redis.call('GET', KEYS[1])
        if s then return tonumber(s) end
        redis.call('SET', KEYS[1], string.format('%.0f', now), 'EX', tonumber(ARGV[1]))
        return now
        """)

    /// Takes a concurrency slot. KEYS: key set, pool set. ARGV: key cap (0 = none), pool cap
    /// (0 = none), member, lease ms. Returns 1 (taken), -1 (key full), -2 (pool full).
    static let acquire = RedisScript(name: "acquire", source: now + acquireFunction + """
        return acquire(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]))
        """)

    /// Extends leases still held. KEYS: lease sets. ARGV: lease ms, then one member per key.
    static let renew = RedisScript(name: "renew", source: now + """
        local nowms = math.floor(now / 1000)
        local lease = tonumber(ARGV[1])
        for i = 1, #KEYS do
          redis.call('ZADD', KEYS[i], 'XX', nowms + lease, ARGV[i + 1])
          redis.call('PEXPIRE', KEYS[i], lease * 2)
        end
        return 1
        """)
}
