import Foundation
import XCTest

@testable import RampartSanitizerCore

/// The evaluation metrics, and the held-out split on the development data when it is present.
final class InjectionMetricsTests: XCTestCase {
    func testROCAUCWithTies() throws {
        XCTAssertEqual(try XCTUnwrap(InjectionMetrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true])), 0.75)
        XCTAssertEqual(try XCTUnwrap(InjectionMetrics.rocAUC(scores: [0.5, 0.5], labels: [false, true])), 0.5)
        XCTAssertNil(InjectionMetrics.rocAUC(scores: [0.5], labels: [true]))
    }

    func testThresholdAtFPR() {
        let negatives = (0..<1000).map { Double($0) / 1000 }
        let t = InjectionMetrics.threshold(negativeScores: negatives, fpr: 0.01)
        XCTAssertEqual(InjectionMetrics.rate(negatives, atOrAbove: t), 0.01)
        let strict = InjectionMetrics.threshold(negativeScores: Array(negatives.prefix(500)), fpr: 0.001)
        XCTAssertEqual(InjectionMetrics.rate(Array(negatives.prefix(500)), atOrAbove: strict), 0)
    }

    func testQuantile() {
        let values = (1...100).map(Double.init)
        XCTAssertEqual(InjectionMetrics.quantile(values, 0.5), 50)
        XCTAssertEqual(InjectionMetrics.quantile(values, 0.99), 99)
    }

    func testSplitIsTheDocumentedHash() {
        // sha256("") = e3b0c442 98fc1c14 …: 0xe3b0c44298fc1c14 % 5 == 2 → train.
        XCTAssertFalse(InjectionSplit.isHeldOut(""))
    }

    /// On the development data (skipped when absent): the held-out split meets a floor well
    /// below the goals, so a broken artifact or feature mismatch fails loudly.
    func testHeldOutDevelopmentDataWhenPresent() throws {
        let path = ProcessInfo.processInfo.environment["RAMPART_INJECTION_DATA"]
            ?? InjectionTestSupport.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/injection-dev.jsonl").path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw XCTSkip("development data not present at \(path)")
        }
        let detector = try InjectionTestSupport.detector()
        let examples = try InjectionMetrics.load(path: path).filter { InjectionSplit.isHeldOut($0.text) }
        XCTAssertGreaterThan(examples.count, 100)
        let scores = examples.map { detector.scan($0.text).score }
        let labels = examples.map(\.isInjection)
        let negatives = zip(scores, labels).filter { !$0.1 }.map(\.0)
        let positives = zip(scores, labels).filter { $0.1 }.map(\.0)
        let t = InjectionMetrics.threshold(negativeScores: negatives, fpr: 0.01)
        XCTAssertGreaterThan(InjectionMetrics.rate(positives, atOrAbove: t), 0.8)
        XCTAssertGreaterThan(try XCTUnwrap(InjectionMetrics.rocAUC(scores: scores, labels: labels)), 0.95)
    }
}
