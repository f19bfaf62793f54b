import Foundation
import XCTest
@testable import RampartThrottleCore

func config(_ json: String) throws -> ThrottleConfig {
    try ThrottleConfig.parse(Array(json.utf8))
}

func request(_ id: String, user: String = "", org: String = "", scopes: [String] = [], prompt: Int64 = 0,
             maxTokens: Int64 = 0, bytes: Int64 = 0, deadline: Int64 = 0) -> AdmissionRequest {
    AdmissionRequest(principal: ThrottlePrincipal(id: id, user: user, org: org, scopes: scopes, uid: 1000),
                     promptTokens: prompt, promptBytes: bytes, maxTokens: maxTokens, deadlineUnixMicros: deadline)
}

/// Runs `count` closures on `count` threads released together; returns their results.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ResultBox<T>(count: count)
    let start = DispatchSemaphore(value: 0)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            start.wait()
            results.set(index, body(index))
            group.leave()
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }
    for _ in 0..<count { start.signal() }
    group.wait()
    return results.values
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [T?]

    init(count: Int) { storage = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        storage[index] = value
        lock.unlock()
    }

    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return storage.compactMap { $0 }
    }
}

/// A thread-safe list (tickets kept alive by tests).
final class Bag<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ item: T) {
        lock.lock()
        items.append(item)
        lock.unlock()
    }
    var all: [T] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
    func removeAll() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items.removeAll()
        return out
    }
}
