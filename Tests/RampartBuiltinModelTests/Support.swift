import Foundation
import RampartCore
import Synchronization
import XCTest

@testable import RampartBuiltinModel

/// The bundled model, loaded once for all tests.
let bundledModel: Result<BuiltinModel, any Error> = Result { try BuiltinModel.loadBundled() }

func loadModel() throws -> BuiltinModel { try bundledModel.get() }

/// One generation's observable output.
struct Run {
    var tokens: [GeneratedToken]
    var result: GenerationResult
    /// The concatenation of the emitted texts.
    var text: String { tokens.map(\.text).joined() }
    var ids: [Int32] { tokens.map(\.id) }
}

func generate(
    _ model: BuiltinModel, _ input: PromptInput, _ sampling: SamplingOptions, hook: LogitsHook? = nil,
    stopAfter limit: Int = .max
) throws -> Run {
    var tokens: [GeneratedToken] = []
    let result = try model.generate(GenerationRequest(input: input, sampling: sampling, logitsHook: hook)) { token in
        tokens.append(token)
        return tokens.count < limit
    }
    return Run(tokens: tokens, result: result)
}

func raw(_ text: String) -> PromptInput { .raw(text) }

/// A sampling configuration; greedy unless a temperature is given.
func options(
    maxTokens: Int = 40, temperature: Float = 0, topP: Float = 1, topK: Int = 0, seed: UInt64? = 1,
    stop: [String] = [], logprobs: Bool = false, topLogprobs: Int = 0, bias: [Int32: Float] = [:]
) -> SamplingOptions {
    SamplingOptions(
        maxTokens: maxTokens, temperature: temperature, topP: topP, topK: topK, seed: seed, stop: stop,
        logprobs: logprobs, topLogprobs: topLogprobs, logitBias: bias)
}

/// Byte-level search (the semantics of stop strings).
func firstOccurrence(of needle: String, in haystack: String) -> Int? {
    let h = Array(haystack.utf8)
    let n = Array(needle.utf8)
    guard !n.isEmpty, n.count <= h.count else { return nil }
    for start in 0...(h.count - n.count) where Array(h[start..<start + n.count]) == n {
        return start
    }
    return nil
}

func prefix(_ text: String, bytes count: Int) -> String {
    String(decoding: Array(text.utf8)[0..<count], as: UTF8.self)
}

/// Thread-safe recorder for logits-hook calls.
final class HookRecorder: Sendable {
    private let calls = Mutex<[[Int32]]>([])
    func record(_ previous: UnsafeBufferPointer<Int32>) { calls.withLock { $0.append(Array(previous)) } }
    var history: [[Int32]] { calls.withLock { $0 } }
}

/// A scratch copy of the bundled artifact directory.
final class ArtifactCopy {
    let url: URL
    var path: String { url.path }

    init() throws {
        guard let source = BuiltinModel.bundledArtifactPath else {
            throw XCTSkip("no bundled artifact")
        }
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rampart-tiny-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: source, toPath: url.path)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: file(name))) }

    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: file(name)) }

    /// Rewrites manifest.json so that it matches the current files (keeps the file list).
    func refreshManifest() throws {
        var manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: file("manifest.json")))
        for index in manifest.files.indices {
            let bytes = try read(manifest.files[index].path)
            manifest.files[index].size = bytes.count
            manifest.files[index].sha256 = ArtifactLoader.sha256Hex(bytes)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: file("manifest.json"))
    }
}

func assertLoadFails(
    _ path: String, _ expected: (BuiltinModelError) -> Bool, file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try BuiltinModel.load(directory: path)
        XCTFail("load succeeded on a corrupt artifact", file: file, line: line)
    } catch let error as BuiltinModelError {
        XCTAssertTrue(expected(error), "unexpected error: \(error)", file: file, line: line)
    } catch {
        XCTFail("untyped error \(error)", file: file, line: line)
    }
}
