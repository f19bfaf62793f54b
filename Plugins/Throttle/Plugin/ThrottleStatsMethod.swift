import RampartPluginKit
import RampartThrottleCore

/// `rampart.v1.Throttle/Stats`: counters and per-principal adjustments.
enum ThrottleStatsMethod {
    static let name = "rampart.v1.Throttle/Stats"

    static func serve(_ body: [UInt8], throttle: Throttle) throws -> [UInt8] {
        let request: Rampart_V1_ThrottleStatsRequest
        do {
            request = try Rampart_V1_ThrottleStatsRequest(serializedBytes: body)
        } catch {
            throw PluginError.invalidArgument("\(name): malformed ThrottleStatsRequest: \(error)")
        }
        let stats = throttle.stats(principalID: request.principalID.isEmpty ? nil : request.principalID,
                                   limit: Int(request.limit))
        let response = Rampart_V1_ThrottleStatsResponse.with {
            $0.mode = stats.mode
            $0.redisHealthy = stats.redisHealthy
            $0.failMode = throttle.config.mode == .redis ? throttle.config.redis.failMode.rawValue : ""
            $0.admitted = UInt64(clamping: stats.admitted)
            $0.denied = stats.denied.sorted { $0.key < $1.key }.map { reason, count in
                Rampart_V1_ThrottleDenialCount.with {
                    $0.reason = reason
                    $0.count = UInt64(clamping: count)
                }
            }
            $0.clamped = UInt64(clamping: stats.clamped)
            $0.reservedTokens = UInt64(clamping: stats.reservedTokens)
            $0.refundedTokens = UInt64(clamping: stats.refundedTokens)
            $0.abandonedTickets = UInt64(clamping: stats.abandonedTickets)
            $0.fallbackAdmissions = UInt64(clamping: stats.fallbackAdmissions)
            $0.queuedAdmissions = UInt64(clamping: stats.queuedAdmissions)
            $0.queueWaitUs = UInt64(clamping: stats.queueWaitMicros)
            $0.waiting = UInt32(clamping: stats.waiting)
            $0.poolInFlight = UInt32(clamping: stats.poolInFlight)
            $0.adjustments = stats.adjustments.map { a in
                Rampart_V1_ThrottleAdjustment.with {
                    $0.principalID = a.principalID
                    $0.factor = a.factor
                    $0.ramp = a.ramp
                    $0.ageMs = UInt64(clamping: a.ageMicros / 1000)
                    $0.authFailures = a.authFailures
                    $0.authPart = a.authPart
                    $0.denials = a.denials
                    $0.denialPart = a.denialPart
                    $0.risk = a.risk
                    $0.riskPart = a.riskPart
                }
            }
        }
        do {
            return try response.serializedBytes()
        } catch {
            throw PluginError.internal("\(name): cannot encode the response: \(error)")
        }
    }
}
