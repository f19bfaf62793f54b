/// Where a view derived byte for byte from a text (same length: the leetspeak view) differs
/// from it, widened so that every occurrence of an anchor literal of at most `reach + 1` bytes
/// that overlaps a changed byte lies inside one window.
enum ChangedWindows {
    /// The merged windows, in order, or nil when they would cover more than half of the text
    /// (scanning the whole view is then as cheap) or the lengths differ.
    static func windows(_ view: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, reach: Int) -> [Range<Int>]? {
        let n = view.count
        guard n == text.count, reach >= 0, let v = view.baseAddress, let t = text.baseAddress else { return nil }
        let rv = UnsafeRawPointer(v), rt = UnsafeRawPointer(t)
        // A few changed bytes are typical (digits, `@`, `$`): room for them in one allocation.
        var list = WindowList(reservingCapacity: 8)
        var i = 0
        while i < n {
            // Equal stretches are skipped eight bytes at a time.
            while i + 8 <= n && rv.loadUnaligned(fromByteOffset: i, as: UInt64.self) == rt.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                i += 8
            }
            guard i < n else { break }
            if v[i] == t[i] {
                i += 1
                continue
            }
            list.add(max(0, i - reach), min(n, i + reach + 1))
            if 2 * list.covered > n { return nil }
            i += 1
        }
        return list.windows
    }
}
