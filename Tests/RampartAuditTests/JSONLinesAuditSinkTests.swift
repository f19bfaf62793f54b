import Foundation
import RampartAudit
import RampartProto
import XCTest

final class JSONLinesAuditSinkTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func lines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func event(_ kind: String) -> Rampart_V1_AuditEvent {
        var peer = Rampart_V1_PeerCredentials()
        peer.pid = 42
        peer.uid = 1000
        peer.gid = 1000
        let stamp = AuditStamp(requestID: "req-1", method: "/rampart.v1.Admin/Reload", peer: peer, principalID: "alice")
        return stamp.apply(to: Rampart_V1_AuditEvent(kind: kind, outcome: "failure", reason: "expired", attributes: ["key_prefix": "rk_ab"]),
                           source: "auth")
    }

    func testOneSortedJSONObjectPerEventWithTheHostFields() throws {
        let path = directory.appendingPathComponent("audit.jsonl").path
        let sink = try JSONLinesAuditSink(path: path, fsync: .always)
        sink.record(event("auth.failure"))
        sink.record(event("token.issue"))
        let records = try lines(path)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0]["seq"] as? Int, 1)
        XCTAssertEqual(records[1]["seq"] as? Int, 2)
        XCTAssertEqual(records[0]["kind"] as? String, "auth.failure")
        XCTAssertEqual(records[0]["reason"] as? String, "expired")
        XCTAssertEqual(records[0]["principal"] as? String, "alice")
        XCTAssertEqual(records[0]["request_id"] as? String, "req-1")
        XCTAssertEqual(records[0]["source"] as? String, "auth")
        XCTAssertEqual((records[0]["peer"] as? [String: Any])?["uid"] as? Int, 1000)
        XCTAssertEqual((records[0]["attributes"] as? [String: Any])?["key_prefix"] as? String, "rk_ab")
        XCTAssertTrue((records[0]["time"] as? String)?.hasSuffix("Z") ?? false)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
    }

    func testSequenceContinuesAcrossReopen() throws {
        let path = directory.appendingPathComponent("audit.jsonl").path
        do {
            let sink = try JSONLinesAuditSink(path: path, fsync: .never)
            sink.record(event("a"))
            sink.record(event("b"))
        }
        let reopened = try JSONLinesAuditSink(path: path, fsync: .interval)
        reopened.record(event("c"))
        XCTAssertEqual(try lines(path).map { $0["seq"] as? Int }, [1, 2, 3])
    }

    func testLongAttributeValuesAreCutAndBinaryIsNotWritten() throws {
        let path = directory.appendingPathComponent("audit.jsonl").path
        let sink = try JSONLinesAuditSink(path: path)
        var e = event("x")
        e.attributes = [
            Rampart_V1_MetadataEntry.with { $0.key = "long"; $0.text = String(repeating: "é", count: 1000) },
            Rampart_V1_MetadataEntry.with { $0.key = "blob"; $0.binary = Data([1, 2, 3]) },
        ]
        sink.record(e)
        let attributes = try XCTUnwrap(try lines(path).first?["attributes"] as? [String: String])
        XCTAssertLessThanOrEqual(attributes["long"]?.utf8.count ?? 0, 512)
        XCTAssertEqual(attributes["blob"], "<3 bytes>")
    }

    func testUnwritableDirectoryIsAnError() {
        XCTAssertThrowsError(try JSONLinesAuditSink(path: "/nonexistent-dir/audit.jsonl")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/audit.jsonl"))
        }
    }

    func testConcurrentWritersNeverInterleave() throws {
        let path = directory.appendingPathComponent("audit.jsonl").path
        let sink = try JSONLinesAuditSink(path: path, fsync: .never)
        let events = (0..<400).map { event("e\($0)") }
        DispatchQueue.concurrentPerform(iterations: 400) { i in sink.record(events[i]) }
        let records = try lines(path)
        XCTAssertEqual(records.count, 400)
        XCTAssertEqual(Set(records.compactMap { $0["seq"] as? Int }), Set(1...400))
    }
}
