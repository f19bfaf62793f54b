/// The running state of one ``InjectionDetector`` scan: the bytes scanned, whether Hyperscan
/// failed, the rules matched in the normalised text (`original`) and only in derived views
/// (`extra`), the first view that matched each rule, and what the text's anchor scan found for
/// the derived views.
///
/// A value with mutating methods rather than local functions of the scan: variables that a local
/// function captures and that closures then use are kept in heap boxes and checked for exclusive
/// access at run time on every read and write; the scan's closures capture this one value by
/// address instead (exclusivity checked when compiling).
struct InjectionScanState {
    let matcher: HyperscanRuleSet
    /// Fast paths on (see `InjectionDetector.Engine.scan(_:fastPaths:)`).
    let fastPaths: Bool
    let ruleCount: Int
    var scanned = 0
    var failed = false
    /// Per rule: the first view that matched it (allocated on the first match: most texts match
    /// no rule).
    var firstView: [(view: InjectionView, depth: Int)?] = []
    /// Rule sets: bit i = rule i.
    var original: UInt64 = 0
    var extra: UInt64 = 0
    /// The rules whose anchors' rot13 images occur in the normalised text.
    var rot13Rules: UInt64 = 0
    /// The anchor groups found in the normalised text (the leetspeak view starts from them).
    var originalAnchors = AnchorGroups()
    var similarity = 0.0
    var modelResult: HashedModel.Reading = (logit: 0.0, features: 0, knownAttacks: 0.0)

    init(matcher: HyperscanRuleSet, fastPaths: Bool, ruleCount: Int) {
        self.matcher = matcher
        self.fastPaths = fastPaths
        self.ruleCount = ruleCount
    }

    /// Records `view` at `depth` as the first view of each rule of `bits` that has none yet.
    mutating func record(_ bits: UInt64, view: InjectionView, depth: Int) {
        if bits != 0 && firstView.isEmpty { firstView = .init(repeating: nil, count: ruleCount) }
        var remaining = bits
        while remaining != 0 {
            let i = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            if firstView[i] == nil { firstView[i] = (view, depth) }
        }
    }

    /// Scans one view (anchors, then the candidate rules) and records its rules. A derived view
    /// only adds rules not yet found (`original | extra`): the rules found already keep their
    /// first view, so skipping them gives the same result.
    mutating func run(_ bytes: UnsafeBufferPointer<UInt8>, view: InjectionView, depth: Int) -> UInt64 {
        scanned += bytes.count
        let skipping = fastPaths && view != .original ? original | extra : 0
        guard let (bits, rot13, anchors) = matcher.scanAnchored(bytes, skipping: skipping) else {
            failed = true
            return 0
        }
        if view == .original {
            rot13Rules = rot13
            originalAnchors = anchors
        }
        record(bits, view: view, depth: depth)
        return bits
    }

    /// ``run(_:view:depth:)`` on a string's UTF-8.
    mutating func run(_ candidate: String, view: InjectionView, depth: Int) -> UInt64 {
        var candidate = candidate
        return candidate.withUTF8 { run($0, view: view, depth: depth) }
    }
}
