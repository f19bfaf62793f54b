/// Where a view derived byte for byte from a text (same length: the leetspeak view) differs
/// from it, widened so that every occurrence of an anchor literal of at most `reach + 1` bytes
/// that overlaps a changed byte lies inside one window.
enum ChangedWindows {
    /// The merged windows around the offsets `changed` (in order) of a view of `n` bytes, or nil
    /// when they would cover more than half of it (scanning the whole view is then as cheap).
    static func windows(changed: [Int], count n: Int, reach: Int) -> [Range<Int>]? {
        guard reach >= 0 else { return nil }
        var list = WindowList()
        for c in changed {
            list.add(max(0, c - reach), min(n, c + reach + 1))
            if 2 * list.covered > n { return nil }
        }
        return list.windows
    }
}

extension ChangedWindows {
    /// The offsets where `view` and `text` (same length) differ, in order (eight bytes at a time
    /// over equal stretches).
    static func changedBytes(_ view: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) -> [Int] {
        var changed: [Int] = []
        changed.reserveCapacity(16)
        let n = min(view.count, text.count)
        guard let v = view.baseAddress, let t = text.baseAddress else { return changed }
        let rv = UnsafeRawPointer(v), rt = UnsafeRawPointer(t)
        var i = 0
        while i < n {
            while i + 8 <= n && rv.loadUnaligned(fromByteOffset: i, as: UInt64.self) == rt.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                i += 8
            }
            guard i < n else { break }
            if v[i] != t[i] { changed.append(i) }
            i += 1
        }
        return changed
    }

    /// The windows of `view` in which a rule with alphabet `alphabet` (``RuleAlphabet``) can
    /// have a match that the text it was derived from lacks, given the offsets `changed` (in
    /// order) where the view differs from that text: for every changed byte `c`, the maximal run
    /// of alphabet bytes through `c` (the bytes before and after it that are in the alphabet, `c`
    /// itself whatever it is), widened by one byte on each side (the byte an assertion such as
    /// `\b` or `^` looks at). Merged, in order; nil when they would cover more than half of the
    /// view (scanning the whole view is then as cheap).
    ///
    /// Why this is enough: a match `s..<e` of the view that is not one of the text holds a
    /// changed byte in `s − 1 ... e` (otherwise the text has the same bytes and the same
    /// neighbours there, hence the same match); its bytes are all alphabet bytes, so `s..<e`
    /// lies in the alphabet run through that byte and `s − 1 ... e` in its window.
    static func runs(_ view: UnsafeBufferPointer<UInt8>, changed: [Int], within alphabet: RuleAlphabet) -> [Range<Int>]? {
        let n = view.count
        guard let v = view.baseAddress else { return changed.isEmpty ? [] : nil }
        var list = WindowList()
        // The end of the last run computed: a changed byte before it lies inside that run (every
        // byte between the run's changed byte and its end is an alphabet byte), same window.
        var runEnd = 0
        for c in changed where c >= runEnd {
            guard c < n else { return nil }
            var low = c
            while low > 0, alphabet.contains(v[low - 1]) { low -= 1 }
            var high = c + 1
            while high < n, alphabet.contains(v[high]) { high += 1 }
            runEnd = high
            list.add(max(0, low - 1), min(n, high + 1))
            if 2 * list.covered > n { return nil }
        }
        return list.windows
    }

    /// ``runs(_:changed:within:)`` byte by byte, without shortcuts: the reference for the tests
    /// (the windows of every changed byte, merged where they overlap or touch).
    static func runsByteByByte(_ view: [UInt8], _ text: [UInt8], within alphabet: RuleAlphabet) -> [Range<Int>] {
        let n = view.count
        var covered = [Bool](repeating: false, count: n)
        for c in 0..<n where view[c] != text[c] {
            var low = c
            while low > 0, alphabet.contains(view[low - 1]) { low -= 1 }
            var high = c + 1
            while high < n, alphabet.contains(view[high]) { high += 1 }
            for k in max(0, low - 1)..<min(n, high + 1) { covered[k] = true }
        }
        var result: [Range<Int>] = []
        var k = 0
        while k < n {
            guard covered[k] else { k += 1; continue }
            let start = k
            while k < n, covered[k] { k += 1 }
            result.append(start..<k)
        }
        return result
    }
}
