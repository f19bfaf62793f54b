/// Byte ranges of a text, added in increasing order of their start and merged where they touch or
/// overlap, with the number of bytes they cover (to fall back to one whole scan when the windows
/// would cover most of the text).
struct WindowList {
    private(set) var windows: [Range<Int>] = []
    private(set) var covered = 0

    /// An empty list with room for `capacity` windows (one allocation instead of one per growth).
    init(reservingCapacity capacity: Int = 0) {
        if capacity > 0 { windows.reserveCapacity(capacity) }
    }

    /// Adds `low..<high` (`low` not below the last window's start).
    mutating func add(_ low: Int, _ high: Int) {
        if let last = windows.last, low <= last.upperBound {
            covered += max(0, high - last.upperBound)
            windows[windows.count - 1] = last.lowerBound..<max(last.upperBound, high)
        } else {
            covered += high - low
            windows.append(low..<high)
        }
    }
}
