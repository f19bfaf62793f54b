import Foundation
import RampartCore
import XCTest

@testable import RampartBuiltinModel

final class GenerationTests: XCTestCase {
    let prompt = raw("The security of the system")
    let eos = BuiltinTokenizer.endOfSequence

    func testBundledArtifactLoadsAndDescribesItself() throws {
        let model = try loadModel()
        XCTAssertEqual(model.model.name, "rampart-tiny")
        XCTAssertEqual(model.model.backend, "builtin")
        XCTAssertEqual(model.model.vocabularySize, 8192)
        XCTAssertEqual(model.model.contextLength, 4096)
        XCTAssertEqual(model.order, 4)
        XCTAssertEqual(model.execution, .blocking)
        XCTAssertNotNil(model.model.version.range(of: #"^1\.0\+[0-9a-f]{12}$"#, options: .regularExpression), model.model.version)
    }

    func testVersionIsTheManifestDigestPrefix() throws {
        let model = try loadModel()
        let path = try XCTUnwrap(BuiltinModel.bundledArtifactPath)
        let manifest = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path).appendingPathComponent("manifest.json")))
        XCTAssertEqual(model.model.version, "1.0+" + ArtifactLoader.sha256Hex(manifest).prefix(12))
    }

    func testNextTokenDistributionIsNormalised() throws {
        let model = try loadModel()
        for context in [[], model.tokenizer.encode("The security of the"), [BuiltinTokenizer.roleMarker(for: .assistant)]] {
            let logprobs = model.nextTokenLogProbabilities(after: context)
            let total = logprobs.reduce(0.0) { $0 + Double(exp($1)) }
            XCTAssertEqual(total, 1, accuracy: 1e-3)
            for role in ChatRole.allCases {
                XCTAssertEqual(logprobs[Int(BuiltinTokenizer.roleMarker(for: role))], -.infinity)
            }
        }
    }

    func testGreedyIsDeterministic() throws {
        let model = try loadModel()
        let first = try generate(model, prompt, options(seed: 1))
        let second = try generate(model, prompt, options(seed: 99))
        XCTAssertFalse(first.tokens.isEmpty)
        XCTAssertEqual(first.ids, second.ids)
        XCTAssertEqual(first.text, second.text)
        // greedy = argmax of the model's distribution at every step
        var context = model.tokenizer.encode("The security of the system")
        for token in first.tokens where token.id != eos {
            let logprobs = model.nextTokenLogProbabilities(after: context)
            let best = logprobs.indices.max { logprobs[$0] < logprobs[$1] || (logprobs[$0] == logprobs[$1] && $0 > $1) }
            XCTAssertEqual(Int(token.id), best)
            context.append(token.id)
        }
    }

    func testSeededSamplingIsDeterministicAndSeedsDiffer() throws {
        let model = try loadModel()
        let a = try generate(model, prompt, options(maxTokens: 60, temperature: 1, seed: 42))
        let b = try generate(model, prompt, options(maxTokens: 60, temperature: 1, seed: 42))
        XCTAssertEqual(a.ids, b.ids)
        XCTAssertEqual(a.text, b.text)
        var distinct = Set<[Int32]>()
        for seed in UInt64(1)...5 {
            distinct.insert(try generate(model, prompt, options(maxTokens: 60, temperature: 1, seed: seed)).ids)
        }
        XCTAssertGreaterThanOrEqual(distinct.count, 4, "different seeds should give different samples")
    }

    func testRandomSeedWhenNil() throws {
        let model = try loadModel()
        var distinct = Set<[Int32]>()
        for _ in 0..<4 {
            distinct.insert(try generate(model, prompt, options(maxTokens: 60, temperature: 1.2, seed: nil)).ids)
        }
        XCTAssertGreaterThan(distinct.count, 1)
    }

    func testTopKOneEqualsGreedy() throws {
        let model = try loadModel()
        let greedy = try generate(model, prompt, options(maxTokens: 50))
        for seed in UInt64(1)...3 {
            let sampled = try generate(model, prompt, options(maxTokens: 50, temperature: 1.5, topK: 1, seed: seed))
            XCTAssertEqual(sampled.ids, greedy.ids)
        }
    }

    func testTinyTopPEqualsGreedy() throws {
        let model = try loadModel()
        let greedy = try generate(model, prompt, options(maxTokens: 50))
        let sampled = try generate(model, prompt, options(maxTokens: 50, temperature: 1, topP: 1e-6, seed: 5))
        XCTAssertEqual(sampled.ids, greedy.ids)
    }

    func testTopKAndTopPKeepSamplesInsideTheirSets() throws {
        let model = try loadModel()
        let k = 3
        let p: Float = 0.5
        let run = try generate(model, prompt, options(maxTokens: 40, temperature: 1, topP: p, topK: k, seed: 3, logprobs: true, topLogprobs: 20))
        for token in run.tokens where token.id != eos {
            let ranked = token.top.map(\.id)
            let rank = try XCTUnwrap(ranked.firstIndex(of: token.id), "sampled token outside the top 20")
            XCTAssertLessThan(rank, k)
            // the nucleus is the smallest prefix (within the top k, renormalised) reaching p
            let topK = token.top.prefix(k).map { Double(exp($0.logprob)) }
            let mass = topK.reduce(0, +)
            var cumulative = 0.0
            var nucleus = 0
            for q in topK {
                cumulative += q / mass
                nucleus += 1
                if cumulative >= Double(p) { break }
            }
            XCTAssertLessThan(rank, nucleus)
        }
    }

    func testLogitBiasForcesAndBans() throws {
        let model = try loadModel()
        let forced = try XCTUnwrap(model.tokenizer.encode(" network").first)
        let run = try generate(model, prompt, options(maxTokens: 8, temperature: 1, seed: 7, bias: [forced: 100]))
        XCTAssertEqual(run.ids, Array(repeating: forced, count: 8))
        XCTAssertEqual(run.result.finish, .length)

        let greedy = try generate(model, prompt, options(maxTokens: 30))
        let banned = greedy.ids[0]
        let avoided = try generate(model, prompt, options(maxTokens: 30, bias: [banned: -100]))
        XCTAssertFalse(avoided.ids.contains(banned))
        XCTAssertNotEqual(avoided.ids.first, banned)
    }

    func testLogitsHookSeesPreviousIdsOncePerToken() throws {
        let model = try loadModel()
        let recorder = HookRecorder()
        let run = try generate(
            model, prompt, options(maxTokens: 25, temperature: 0.9, seed: 11, bias: [eos: -1000]),
            hook: { _, previous in recorder.record(previous) })
        XCTAssertEqual(run.result.finish, .length)
        XCTAssertEqual(run.tokens.count, 25)
        let calls = recorder.history
        XCTAssertEqual(calls.count, 25)
        for (step, previous) in calls.enumerated() {
            XCTAssertEqual(previous, Array(run.ids.prefix(step)))
        }
    }

    func testLogitsHookCanForceATokenBeforeBias() throws {
        let model = try loadModel()
        let forced = try XCTUnwrap(model.tokenizer.encode(" database").first)
        let hook: LogitsHook = { logits, _ in
            for i in logits.indices { logits[i] = -.infinity }
            logits[Int(forced)] = -3
        }
        let run = try generate(model, prompt, options(maxTokens: 5, temperature: 1, seed: 2, logprobs: true), hook: hook)
        XCTAssertEqual(run.ids, Array(repeating: forced, count: 5))
        for token in run.tokens { XCTAssertEqual(token.logprob, 0) }
        // the bias is applied after the hook, so it can still move the choice
        let other = try XCTUnwrap(model.tokenizer.encode(" table").first)
        let biased = try generate(model, prompt, options(maxTokens: 3, bias: [other: 0]), hook: { logits, _ in
            for i in logits.indices { logits[i] = -.infinity }
            logits[Int(forced)] = 0
            logits[Int(other)] = -1
        })
        XCTAssertEqual(biased.ids, [forced, forced, forced])
        let overridden = try generate(model, prompt, options(maxTokens: 3, bias: [other: 2]), hook: { logits, _ in
            for i in logits.indices { logits[i] = -.infinity }
            logits[Int(forced)] = 0
            logits[Int(other)] = -1
        })
        XCTAssertEqual(overridden.ids, [other, other, other])
    }

    func testAllTokensBannedIsATypedError() throws {
        let model = try loadModel()
        XCTAssertThrowsError(
            try generate(model, prompt, options(maxTokens: 3), hook: { logits, _ in
                for i in logits.indices { logits[i] = .nan }
            })
        ) { error in
            XCTAssertEqual(error as? BuiltinModelError, .noViableToken(step: 0))
        }
    }

    func testMaxTokensIsRespected() throws {
        let model = try loadModel()
        for limit in [1, 7, 64] {
            let run = try generate(model, prompt, options(maxTokens: limit, temperature: 1, seed: 5, bias: [eos: -1000]))
            XCTAssertEqual(run.result.finish, .length)
            XCTAssertEqual(run.result.completionTokens, limit)
            XCTAssertEqual(run.tokens.count, limit)
            XCTAssertEqual(run.result.promptTokens, 5)
        }
    }

    func testEndOfSequenceStops() throws {
        let model = try loadModel()
        let run = try generate(model, prompt, options(maxTokens: 10, bias: [eos: 100]))
        XCTAssertEqual(run.result.finish, .stop)
        XCTAssertEqual(run.result.completionTokens, 0)
        XCTAssertTrue(run.tokens.isEmpty)
    }

    func testContextLengthEndsGeneration() throws {
        let model = try loadModel()
        let long = String(repeating: " the", count: model.model.contextLength - 3)
        XCTAssertEqual(model.countPromptTokens(raw(long)), model.model.contextLength - 3)
        let run = try generate(model, raw(long), options(maxTokens: 100, bias: [eos: -1000]))
        XCTAssertEqual(run.result.finish, .length)
        XCTAssertEqual(run.result.completionTokens, 3)
        XCTAssertThrowsError(try generate(model, raw(long + " the the the"), options())) { error in
            XCTAssertEqual(error as? BuiltinModelError, .promptTooLong(tokens: model.model.contextLength, limit: model.model.contextLength))
        }
    }

    func testStopStringSpanningTwoTokensCutsTheOutput() throws {
        let model = try loadModel()
        let full = try generate(model, prompt, options(maxTokens: 40, bias: [eos: -1000]))
        // A stop string made of the end of one token and the start of the next.
        let index = try XCTUnwrap((3..<full.tokens.count - 1).first { i in
            full.tokens[i].text.count >= 2 && !full.tokens[i + 1].text.isEmpty
        })
        let stop = String(full.tokens[index].text.suffix(1)) + String(full.tokens[index + 1].text.prefix(1))
        let cut = try XCTUnwrap(firstOccurrence(of: stop, in: full.text))
        let expected = prefix(full.text, bytes: cut)

        let run = try generate(model, prompt, options(maxTokens: 40, stop: [stop], bias: [eos: -1000]))
        XCTAssertEqual(run.result.finish, .stop)
        XCTAssertEqual(run.text, expected)
        XCTAssertNil(firstOccurrence(of: stop, in: run.text))
        // tokens stop exactly at the one completing the stop string
        let completing = run.tokens.count
        XCTAssertEqual(run.ids, Array(full.ids.prefix(completing)))
        XCTAssertLessThanOrEqual(completing, index + 2)
    }

    func testStopStringsNeverLeakAndHeldTextIsReleased() throws {
        let model = try loadModel()
        let full = try generate(model, prompt, options(maxTokens: 60, bias: [eos: -1000]))
        for stop in [".", " the", "of", full.tokens[5].text + full.tokens[6].text, "never-occurs-xyz", "\u{1F600}"] {
            let run = try generate(model, prompt, options(maxTokens: 60, stop: [stop, "zzz-unused"], bias: [eos: -1000]))
            if let cut = firstOccurrence(of: stop, in: full.text) {
                XCTAssertEqual(run.text, prefix(full.text, bytes: cut), "stop \(stop.debugDescription)")
                XCTAssertEqual(run.result.finish, .stop)
            } else {
                XCTAssertEqual(run.text, full.text, "stop \(stop.debugDescription)")
                XCTAssertEqual(run.result.finish, .length)
            }
        }
    }

    func testHeldBackTextIsFlushedAtEndOfSequence() throws {
        let model = try loadModel()
        let x = Int32(BuiltinTokenizer.firstByteID) + 0x78  // byte "x"
        // Force "x" then <eos>; the stop string "xy" holds the "x" back until the end.
        let hook: LogitsHook = { logits, previous in
            for i in logits.indices { logits[i] = -.infinity }
            logits[previous.isEmpty ? Int(x) : 0] = 0
        }
        let run = try generate(model, prompt, options(maxTokens: 5, stop: ["xy"]), hook: hook)
        XCTAssertEqual(run.result.finish, .stop)
        XCTAssertEqual(run.result.completionTokens, 1)
        XCTAssertEqual(run.tokens.map(\.text), ["", "x"])
        XCTAssertEqual(run.ids, [x, BuiltinTokenizer.endOfSequence])
    }

    func testSplitUTF8CharacterIsHeldUntilComplete() throws {
        let model = try loadModel()
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let hook: LogitsHook = { logits, previous in
            for i in logits.indices { logits[i] = -.infinity }
            logits[BuiltinTokenizer.firstByteID + Int(euro[previous.count % 3])] = 0
        }
        let run = try generate(model, prompt, options(maxTokens: 3), hook: hook)
        XCTAssertEqual(run.tokens.map(\.text), ["", "", "€"])
        // cut in the middle: the incomplete character is flushed as U+FFFD at the end
        let cut = try generate(model, prompt, options(maxTokens: 5), hook: hook)
        XCTAssertEqual(cut.tokens.map(\.text), ["", "", "€", "", "\u{FFFD}"])
        XCTAssertEqual(cut.text, String(decoding: euro + euro.prefix(2), as: UTF8.self))
    }

    func testSinkReturningFalseCancels() throws {
        let model = try loadModel()
        for limit in [1, 4] {
            let run = try generate(model, prompt, options(maxTokens: 50, temperature: 1, seed: 8, bias: [eos: -1000]), stopAfter: limit)
            XCTAssertEqual(run.result.finish, .cancelled)
            XCTAssertEqual(run.tokens.count, limit)
            XCTAssertEqual(run.result.completionTokens, limit)
        }
    }

    func testLogprobsAndTopLogprobs() throws {
        let model = try loadModel()
        let run = try generate(model, prompt, options(maxTokens: 30, logprobs: true, topLogprobs: 5, bias: [eos: -1000]))
        XCTAssertEqual(run.tokens.count, 30)
        for token in run.tokens {
            let logprob = try XCTUnwrap(token.logprob)
            XCTAssertLessThanOrEqual(logprob, 0)
            XCTAssertEqual(token.top.count, 5)
            XCTAssertEqual(token.top.map(\.logprob), token.top.map(\.logprob).sorted(by: >))
            // greedy picks the most likely token
            XCTAssertEqual(token.top.first?.id, token.id)
            XCTAssertEqual(token.top.first?.logprob ?? 1, logprob, accuracy: 1e-6)
            XCTAssertEqual(token.top.first?.text, model.tokenizer.text(of: token.id))
            for alternative in token.top { XCTAssertLessThanOrEqual(alternative.logprob, 0) }
        }
        let plain = try generate(model, prompt, options(maxTokens: 5))
        for token in plain.tokens {
            XCTAssertNil(token.logprob)
            XCTAssertTrue(token.top.isEmpty)
        }
    }

    func testLogprobsMatchTheModelDistribution() throws {
        let model = try loadModel()
        let run = try generate(model, prompt, options(maxTokens: 1, logprobs: true, topLogprobs: 3))
        let distribution = model.nextTokenLogProbabilities(after: model.tokenizer.encode("The security of the system"))
        let token = try XCTUnwrap(run.tokens.first)
        XCTAssertEqual(try XCTUnwrap(token.logprob), distribution[Int(token.id)], accuracy: 1e-4)
        for alternative in token.top {
            XCTAssertEqual(alternative.logprob, distribution[Int(alternative.id)], accuracy: 1e-4)
        }
    }

    func testOutputIsReadableEnglish() throws {
        let model = try loadModel()
        var words: [String] = []
        var text = ""
        for seed in UInt64(1)...3 {
            let run = try generate(model, prompt, options(maxTokens: 80, temperature: 0.8, topK: 40, seed: seed, bias: [eos: -100]))
            text += run.text
        }
        var current = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        XCTAssertGreaterThan(words.count, 60, text)
        let known = words.filter { model.tokenizer.containsPiece(" " + $0) || model.tokenizer.containsPiece($0) }
        XCTAssertGreaterThanOrEqual(Double(known.count), 0.8 * Double(words.count), text)
        XCTAssertTrue(text.contains(" "))
        XCTAssertTrue(text.contains(".") || text.contains(","), text)
    }

    func testChatFormatting() throws {
        let model = try loadModel()
        let turns = [
            ChatTurn(role: .system, content: "You are terse."),
            ChatTurn(role: .user, content: "Explain the <assistant> marker."),
        ]
        let tokens = model.promptTokens(.chat(turns))
        let system = model.tokenizer.encode("You are terse.")
        let user = model.tokenizer.encode("Explain the <assistant> marker.")
        XCTAssertEqual(tokens, [1] + system + [2] + user + [3])
        XCTAssertEqual(model.countPromptTokens(.chat(turns)), tokens.count)
        XCTAssertEqual(model.countPromptTokens(.chat([])), 1)
        XCTAssertEqual(model.countPromptTokens(raw("")), 0)
        let run = try generate(model, .chat(turns), options(maxTokens: 30, temperature: 0.7, seed: 3))
        XCTAssertEqual(run.result.promptTokens, tokens.count)
        XCTAssertFalse(run.text.isEmpty)
        for token in run.tokens where token.id != BuiltinTokenizer.endOfSequence {
            XCTAssertFalse(BuiltinTokenizer.isSpecial(token.id))
        }
    }

    func testThroughput() throws {
        let model = try loadModel()
        let count = 400
        let start = DispatchTime.now().uptimeNanoseconds
        let run = try generate(model, prompt, options(maxTokens: count, temperature: 0.8, topP: 0.95, topK: 40, seed: 1, bias: [eos: -1000]))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(run.result.completionTokens, count)
        print("builtin model: \(count) tokens in \(String(format: "%.3f", seconds)) s = \(Int(Double(count) / seconds)) tokens/s")
    }
}
