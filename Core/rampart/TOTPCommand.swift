import ArgumentParser
import Foundation
import RampartAuthCore

/// `rampart totp enroll`: the TOTP seed for admin step-up (offline only: the seed is a secret).
struct TOTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "totp", abstract: "Enrol principals for TOTP step-up (RFC 6238).", subcommands: [Enroll.self])

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll", abstract: "Create (or replace) a principal's TOTP seed; prints the otpauth:// URI once.")
        @OptionGroup var store: AuthStoreOptions
        @Option(name: .long, help: "The principal to enrol.") var principal: String
        @Option(name: .long, help: "Issuer label shown by authenticator apps.") var label = "Rampart"

        func run() throws {
            let engine = try store.engine()
            do {
                let totp = try engine.store.enrollTOTP(principalID: principal, now: unixNow())
                print(totp.provisioningURI(account: principal, issuer: label))
                FileHandle.standardError.write(Data("""
                    enrolled \(principal): import the URI above into an authenticator app (it is shown once),
                    then send its 6-digit code in x-rampart-totp (rampart … --totp CODE) on admin calls.

                    """.utf8))
            } catch {
                throw CLIError("\(error)")
            }
        }
    }
}
