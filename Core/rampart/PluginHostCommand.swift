import ArgumentParser
import CRampartSystem
import Foundation
import RampartPluginHost
import RampartSigning

/// `rampart plugin-host`: the child process of a plugin with `isolation = "process"`. The
/// sidecar starts it (docs/ISOLATION.md); it is not meant to be run by hand.
struct PluginHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-host",
        abstract: "Run one plugin for the sidecar in this process (process isolation; internal).",
        discussion: """
            Started by the sidecar with one end of a socketpair as --fd. The plugin's config arrives \
            in the first message, never on the command line. The plugin directory is verified again \
            here before the library is loaded. See docs/ISOLATION.md.
            """,
        shouldDisplay: false)

    @Option(name: .customLong("fd"), help: "The socket shared with the sidecar.")
    var fd: Int32

    @Option(name: .customLong("directory"), help: "The plugin directory.")
    var directory: String

    @Option(name: .customLong("library"), help: "The library's file name inside the directory.")
    var library: String

    @Option(name: .customLong("name"), help: "The plugin's configured name.")
    var name: String

    @Option(name: .customLong("cache-directory"), help: "Where content-addressed copies of plugins go.")
    var cacheDirectory: String

    @Option(name: .customLong("parent-pid"), help: "The sidecar's pid (exit at once if it is already gone).")
    var parentPID: Int32?

    @Flag(name: .customLong("allow-unsigned"), help: "Load unsigned plugins (development only).")
    var allowUnsigned = false

    @Option(name: .customLong("trusted-key"), help: "A trusted public key (PEM file); repeatable.")
    var trustedKeys: [String] = []

    func validate() throws {
        guard allowUnsigned != !trustedKeys.isEmpty else {
            throw ValidationError("give exactly one of --allow-unsigned or --trusted-key")
        }
        guard fd >= 0 else { throw ValidationError("--fd must be a descriptor") }
    }

    func run() throws {
        // Die with the sidecar even while a hook hangs. The kernel fires this when the thread
        // that spawned us exits: the sidecar spawns from one thread that lives as long as it does.
        if rampart_set_parent_death_signal(SIGKILL) != 0 {
            FileHandle.standardError.write(Data("rampart plugin-host: prctl(PR_SET_PDEATHSIG) failed\n".utf8))
        }
        // The sidecar may have died before the request above took effect.
        if let parentPID, getppid() != parentPID { throw ExitCode(3) }

        let trust: PluginTrust
        if allowUnsigned {
            trust = .unsignedDevelopment
        } else {
            let keys: [VerifyingKey]
            do {
                keys = try trustedKeys.map { try VerifyingKey(pemFile: $0) }
            } catch {
                throw CLIError("error: \(error)")
            }
            trust = PluginSetup.signedTrust(keys)
        }
        let status = PluginHostServer.run(PluginHostServer.Options(
            fd: fd, directory: directory, library: library, name: name, cacheDirectory: cacheDirectory, trust: trust))
        throw ExitCode(status)
    }
}
