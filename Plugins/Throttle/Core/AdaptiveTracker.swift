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
        /// The shared-signal names this principal is read under, built on its first request.
        var signals: SignalNames?
    }

    /// `auth_failures:principal:<id>`, `auth_failures:uid:<uid>` and `risk:<id>`: built once per
    /// principal (string interpolation on every request costs more than the lookups).
    struct SignalNames {
        var authByPrincipal: String
        var risk: String
        var uid: UInt32?
        var authByUID: String?

        init(_ principal: ThrottlePrincipal) {
            authByPrincipal = "auth_failures:principal:\(principal.id)"
            risk = "risk:\(principal.id)"
            uid = principal.uid
            authByUID = principal.uid.map { "auth_failures:uid:\($0)" }
        }
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
        // One lookup for what the entry remembers (signal names, first-seen time); the signals are
        // read outside the lock.
        let known = entries.withLock { entries in entries[principal.id].map { ($0.signals, $0.firstSeen) } }
        var names = known?.0 ?? SignalNames(principal)
        if names.uid != principal.uid { names = SignalNames(principal) }
        var authFailures = signal(names.authByPrincipal) ?? 0
        if let byUIDName = names.authByUID, let byUID = signal(byUIDName) { authFailures = max(authFailures, byUID) }
        let risk = min(1, max(0, signal(names.risk) ?? 0))
        // Only while ramping up does the first-seen time matter; ask the store once.
        var created = principal.createdAtMicros
        if s.rampMicros > 0, created == nil {
            created = known?.1
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
            if entries.count >= maxEntries, entries[principal.id] == nil { evict(&entries) }
            return Self.update(&entries[principal.id, default: Entry()]) { entry in
                if entry.firstSeen == nil, let created, principal.createdAtMicros == nil { entry.firstSeen = created }
                entry.signals = names
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
                return (adjustment, previous)
            }
        }
    }

    /// Runs `body` on an entry in place (one hash lookup with `subscript(_:default:)`).
    private static func update<T>(_ entry: inout Entry, _ body: (inout Entry) -> T) -> T { body(&entry) }

    /// Counts a denial of `principalID` by another plugin.
    func recordDenial(_ principalID: String, now: Int64) {
        entries.withLock { entries in
            if entries.count >= maxEntries, entries[principalID] == nil { evict(&entries) }
            Self.update(&entries[principalID, default: Entry()]) { entry in
                entry.denials = decayed(entry, now: now) + 1
                entry.denialsAt = now
            }
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
