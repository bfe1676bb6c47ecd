import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// With `--trust-forwarded-for`, for a console behind one proxy that appends the client's
/// address: the last address of `X-Forwarded-For` is the operator's (what the audit
/// records and the lockout counts per address); without it, every operator would share
/// the proxy's address. Never with operators reaching the console directly.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[values: Self.forwardedFor].last,
           let last = header.split(separator: ",").last?.trimmingCharacters(in: .whitespaces),
           let address = try? SocketAddress(ipAddress: last, port: 0)
        {
            context.clientAddress = address.ipAddress
        }
        return try await next(request, context)
    }
}
