/// The rules' anchor groups (``HyperscanRuleSet``: the `requires` groups and their rot13 images)
/// that occur in a text, one bit per group (at most ``HyperscanRuleSet/maximumAnchorGroups``).
typealias AnchorGroups = Set256

extension Set256 {
    /// The set of the values in `groups`.
    init(_ groups: Range<Int>) {
        self.init()
        for g in groups { insert(g) }
    }
}
