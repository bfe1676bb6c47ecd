import ChatAPI
import ChatScripts
import Foundation
import Hummingbird

extension ConsoleRequestContext {
    /// Who changes what, from where, when: the audit row's `admin`, `address`, `create_time`.
    var audit: OperatorAudit {
        get throws {
            OperatorAudit(admin: try admin.admin, address: clientAddress ?? "", now: TimeFormat.rowTime(Date()))
        }
    }

    /// The route's `{id}` as a positive integer; else the page is missing.
    func id() throws -> Int {
        guard let id = parameters.get("id", as: Int.self), id > 0 else { throw ConsoleFailure.missing(FlashMessage.Failure.missing.text) }
        return id
    }
}
