/// How labelled data names our types, for `rampart eval pii`: a label that names a source tool's
/// coarser secret type accepts each of our finer types that the tool reports under it.
///
/// detect-secrets reports one secret type per plugin: its `AWSKeyDetector` ("AWS Access Key")
/// finds key IDs and, in `aws…key = '…'` assignments, 40-character secret access keys (ours:
/// `AWS_ACCESS_KEY` and `AWS_SECRET_ACCESS_KEY`); its `SlackDetector` ("Slack Token") finds
/// tokens and incoming-webhook URLs (ours: `SLACK_TOKEN` and `SLACK_WEBHOOK`). The mapping is the
/// tool's definition, used both ways: a line so labelled is found when any type of the family is
/// reported, and a negative line so targeted is a false positive when any of them is.
public enum LabelFamilies {
    /// Data label → the types that count for it (a label not listed counts only itself).
    public static let families: [String: Set<String>] = [
        "AWS_ACCESS_KEY": ["AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
        "SLACK_TOKEN": ["SLACK_TOKEN", "SLACK_WEBHOOK"],
    ]

    /// The types whose finding counts for a data label.
    public static func reportedTypes(for label: String) -> Set<String> {
        families[label] ?? [label]
    }
}
