/// The texts of a refused token or account, the same for an `/api/chat` request
/// (`ChatAuthMiddleware`) and a send that checks the token itself (`SendRefusal`).
package enum AuthRefusal {
    package static let invalidToken = "Token 令牌不合法！"
    package static let unavailable = "当前用户不存在或者已被禁用"
}
