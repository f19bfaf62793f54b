import Foundation
import RampartPluginHost
import RampartProto
import XCTest

/// docs/PLUGINS.md's code must be the code that works.
final class PluginDocsTests: XCTestCase {
    func documentBlocks(_ language: String) throws -> [String] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/PLUGINS.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(language)" {
                current = []
            } else if let block = current, line == "```" {
                blocks.append(block.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    func testTheSwiftTutorialShowsTheExampleVerbatim() throws {
        let example = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/swift-plugin/KeywordGuard.swift"),
                                 encoding: .utf8)
        XCTAssertTrue(try documentBlocks("swift").contains(example), "docs/PLUGINS.md no longer shows KeywordGuard.swift verbatim")
    }

    func testTheCTutorialPluginBuildsLoadsAndDenies() throws {
        let source = try XCTUnwrap(try documentBlocks("c").first { $0.contains("rampart_plugin_v1(") })
        let generated = try buildCExample().directory + "/gen"
        let directory = "/tmp/rampart-kit-docs-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try source.write(toFile: directory + "/guard.c", atomically: true, encoding: .utf8)
        let protos = try FileManager.default.contentsOfDirectory(atPath: generated + "/rampart/v1")
            .filter { $0.hasSuffix(".pb-c.c") }.sorted().map { generated + "/rampart/v1/" + $0 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-fPIC", "-fvisibility=hidden", "-shared",
                             "-I", repositoryRoot.appendingPathComponent("Core/CRampartPlugin/include").path, "-I", generated,
                             "-o", directory + "/libforbidden_guard.so", directory + "/guard.c"] + protos + ["-lprotobuf-c"]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "the tutorial's C plugin does not compile")

        let plugin = try loadNative((directory, "libforbidden_guard.so"), name: "tutorial", config: "")
        XCTAssertEqual(plugin.info.name, "forbidden-guard")
        let deny = try plugin.onRequest(try promptRequest("a forbidden thing"), stream: nil)
        XCTAssertEqual(deny.deny.code, 7)
        XCTAssertEqual(deny.deny.message, "forbidden word")
        XCTAssertNil(try plugin.onRequest(try promptRequest("fine"), stream: nil).action)
        assertPluginError(try plugin.onRequest([0xff], stream: nil)) { error in
            XCTAssertEqual(error, .hookFailed(plugin: "tutorial", hook: "on_request", status: 3, message: "malformed PluginRequest"))
        }
    }
}
