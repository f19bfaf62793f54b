import Foundation
import Synchronization

/// How much of its limits a principal gets right now, and why.
public struct PrincipalAdjustment: Sendable, Equatable {
    public var principalID: String
    /// The product of the parts below, never under `min_fraction` (1 = full limits).
    public var factor: Double
    /// New-key ramp-up part (1 once the key is older than `ramp_ms`).
    public var ramp: Double
    public var ageMicros: Int64
    /// Auth failures seen in the shared signals, and the resulting part.
    public var authFailures: Double
    public var authPart: Double
    /// Denials by other plugins (decaying count), and the resulting part.
    public var denials: Double
    public var denialPart: Double
    /// The probe detector's risk (0…1), and the resulting part.
    public var risk: Double
    public var riskPart: Double
}

/// Tracks per-principal ramp-up and penalties (auth failures, other plugins' denials, risk).
final class AdaptiveTracker: Sendable {
    struct Entry {
        var firstSeen: Int64?
        var denials = 0.0
        var denialsAt: Int64 = 0
        var last: PrincipalAdjustment?
        var lastUsed: Int64 = 0
    }

    private let settings: AdaptiveSettings
    private let entries = Mutex<[String: Entry]>([:])
    private let maxEntries: Int

    init(settings: AdaptiveSettings, maxEntries: Int = 50_000) {
        self.settings = settings
        self.maxEntries = maxEntries
    }

    /// Computes the adjustment for `principal` at `now`; `signal` reads shared signals and
    /// `firstSeen` asks the store when the key was first seen (only while ramping matters).
    /// - Returns: the adjustment and the previous one (to notice changes worth an audit event).
    func adjust(_ principal: ThrottlePrincipal, now: Int64, signal: (String) -> Double?,
                firstSeen: () -> Int64?) -> (PrincipalAdjustment, previous: PrincipalAdjustment?) {
        let s = settings
        var authFailures = signal("auth_failures:principal:\(principal.id)") ?? 0
        if let uid = principal.uid, let byUID = signal("auth_failures:uid:\(uid)") { authFailures = max(authFailures, byUID) }
        let risk = min(1, max(0, signal("risk:\(principal.id)") ?? 0))
        // Only while ramping up does the first-seen time matter; ask the store (outside the lock) once.
        var created = principal.createdAtMicros
        if s.rampMicros > 0, created == nil {
            created = entries.withLock { $0[principal.id]?.firstSeen }
            if created == nil { created = firstSeen() }
        }
        let age = max(0, now - (created ?? now))
        var ramp = 1.0
        if s.rampMicros > 0, age < s.rampMicros {
            ramp = s.rampStartFraction + (1 - s.rampStartFraction) * Double(age) / Double(s.rampMicros)
        }
        let authSteps = (max(0, authFailures) / Double(s.authFailureThreshold)).rounded(.down)
        let authPart = authSteps > 0 ? pow(s.authFailureFactor, min(authSteps, 64)) : 1
        let riskPart = 1 - risk * s.riskWeight
        return entries.withLock { entries in
            var entry = entries[principal.id] ?? Entry()
            if entry.firstSeen == nil, let created, principal.createdAtMicros == nil { entry.firstSeen = created }
            let denials = decayed(entry, now: now)
            let denialSteps = (denials / Double(s.denialThreshold)).rounded(.down)
            let denialPart = denialSteps > 0 ? pow(s.denialFactor, min(denialSteps, 64)) : 1
            let factor = min(1, max(s.minFraction, ramp * authPart * denialPart * riskPart))
            let adjustment = PrincipalAdjustment(
                principalID: principal.id, factor: factor, ramp: ramp, ageMicros: age, authFailures: authFailures,
                authPart: authPart, denials: denials, denialPart: denialPart, risk: risk, riskPart: riskPart)
            let previous = entry.last
            entry.last = adjustment
            entry.lastUsed = now
            if entries[principal.id] == nil, entries.count >= maxEntries { evict(&entries) }
            entries[principal.id] = entry
            return (adjustment, previous)
        }
    }

    /// Counts a denial of `principalID` by another plugin.
    func recordDenial(_ principalID: String, now: Int64) {
        entries.withLock { entries in
            var entry = entries[principalID] ?? Entry()
            entry.denials = decayed(entry, now: now) + 1
            entry.denialsAt = now
            if entries[principalID] == nil, entries.count >= maxEntries { evict(&entries) }
            entries[principalID] = entry
        }
    }

    /// The last adjustment of every tracked principal (or of one).
    func snapshot(principalID: String? = nil) -> [PrincipalAdjustment] {
        entries.withLock { entries in
            if let principalID { return entries[principalID]?.last.map { [$0] } ?? [] }
            return entries.values.compactMap(\.last).sorted { $0.principalID < $1.principalID }
        }
    }

    private func decayed(_ entry: Entry, now: Int64) -> Double {
        guard entry.denials > 0 else { return 0 }
        let elapsed = Double(max(0, now - entry.denialsAt))
        return entry.denials * pow(0.5, elapsed / Double(settings.denialHalfLifeMicros))
    }

    private func evict(_ entries: inout [String: Entry]) {
        let keep = entries.sorted { $0.value.lastUsed > $1.value.lastUsed }.prefix(maxEntries / 2)
        entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
