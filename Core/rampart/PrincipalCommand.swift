import ArgumentParser
import Foundation
import RampartAuthCore
import RampartProto

/// `rampart principal add|list`: who credentials speak for.
struct PrincipalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "principal", abstract: "Manage auth principals (ids, users, orgs, scopes).",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Create or update a principal.")
        @OptionGroup var target: AdminTarget
        @Argument(help: "Principal id, e.g. svc-chat.") var id: String
        @Option(name: .long, help: "Scopes, comma-separated (infer, finetune, admin, custom).") var scopes: String
        @Option(name: .long, help: "User behind the principal.") var user = ""
        @Option(name: .long, help: "Organisation.") var org = ""

        func run() async throws {
            let scopeList = parseScopes(scopes) ?? []
            if target.offline {
                let engine = try target.store.engine()
                _ = try unwrap(engine.upsertPrincipal(Principal(id: id, user: user, org: org, scopes: scopeList), actor: "cli", now: unixNow()))
            } else {
                var request = Rampart_V1_UpsertPrincipalRequest()
                request.id = id
                request.user = user
                request.org = org
                request.scopes = scopeList
                _ = try await target.call("UpsertPrincipal", request, as: Rampart_V1_UpsertPrincipalResponse.self)
            }
            print("principal \(id): scopes \(scopeList.joined(separator: ","))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List principals (offline).")
        @OptionGroup var store: AuthStoreOptions

        func run() throws {
            let engine = try store.engine()
            do {
                for p in try engine.store.principals() {
                    print([p.id, "scopes=\(p.scopes.joined(separator: ","))", "user=\(p.user)", "org=\(p.org)"].joined(separator: "  "))
                }
            } catch {
                throw CLIError("\(error)")
            }
        }
    }
}
