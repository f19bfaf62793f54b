/// Holds back the newest `limit` bytes of generated text so that output plugins can stop a
/// stream before the client receives text they object to. Releases whole characters only.
public struct HoldBackWindow: Sendable {
    public let limit: Int
    private var held = ""

    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Bytes currently held.
    public var heldBytes: Int { held.utf8.count }

    /// Adds text; returns what may now be released to the client (possibly empty).
    public mutating func push(_ text: String) -> String {
        held += text
        let excess = held.utf8.count - limit
        guard excess > 0 else { return "" }
        var cut = held.utf8.index(held.startIndex, offsetBy: excess)
        while cut < held.endIndex, String.Index(cut, within: held) == nil {
            cut = held.utf8.index(after: cut)
        }
        let released = String(held[..<cut])
        held = String(held[cut...])
        return released
    }

    /// Releases everything (the stream ended normally).
    public mutating func flush() -> String {
        defer { held = "" }
        return held
    }

    /// Drops everything held (the stream was stopped): it never reaches the client.
    public mutating func discard() { held = "" }
}
