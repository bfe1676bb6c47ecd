import Testing

@testable import Console

/// The pages escape what users typed, and show the flash of the last POST in the right place.
@Suite struct PageRenderingTests {
    let renderer = PageRenderer()
    let session = AdminSession(key: "k", admin: "ops<1>", csrf: "token-1", created: 0)

    @Test("a hostile nickname, avatar and username are shown as text, never as markup")
    func escapesUserValues() {
        let values: [String: Any] = [
            "q": "\"><script>q()</script>", "page": 1,
            "rows": [[
                "id": 7, "username": "a'b\"c", "nickname": "<script>alert(1)</script>", "avatar": "x\" onerror=\"alert(2)",
                "hasAvatar": true, "statusText": "启用", "createTime": "t",
            ] as [String: Any]],
        ]
        let page = renderer.page("users", values, title: "即时通讯用户管理", section: .users, session: session)
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains(#"<img src="x&quot; onerror=&quot;alert(2)""#))
        #expect(page.contains(#"<td class="username">a&#39;b&quot;c</td>"#))
        #expect(page.contains(#"value="&quot;&gt;&lt;script&gt;q()&lt;/script&gt;""#))
        #expect(page.contains(#"<span id="admin-name">ops&lt;1&gt;</span>"#))
        #expect(page.contains(#"<tr data-user-id="7">"#))
        #expect(page.contains(#"<a id="nav-users" href="/users" class="active">"#))
    }

    @Test("every form of a page carries the session's CSRF token")
    func formsCarryTheToken() {
        let page = renderer.page(
            "user-form", ["isNew": false, "id": 3, "action": "/users/3", "canDisable": true, "canDelete": true],
            title: "修改", section: .users, session: session
        )
        let forms = page.components(separatedBy: "<form").count - 1
        let tokens = page.components(separatedBy: #"name="csrf" value="token-1""#).count - 1
        #expect(forms == 4)  // logout, user, disable, delete
        #expect(tokens == forms)
        #expect(!page.contains("enable-form"))
    }

    @Test("a success goes to #flash, a refusal to #error")
    func flashPlacement() {
        let ok = renderer.page("error", [:], title: "t", section: .none, session: session, flash: .success(.created))
        #expect(ok.contains(#"<p id="flash" class="flash">创建成功</p>"#))
        #expect(!ok.contains(#"id="error""#))
        let refused = renderer.page("error", [:], title: "t", section: .none, session: session, flash: .failure(.usernameTaken))
        #expect(refused.contains(#"<p id="error" class="error">即时通讯用户账号已存在</p>"#))
        #expect(!refused.contains(#"id="flash""#))
    }

    @Test("the login page has no nav and its form the double-submit token")
    func loginPage() {
        let page = renderer.page("login", ["csrf": "login-token", "username": "<b>"], title: "管理员登录", section: .none, session: nil)
        #expect(!page.contains("nav-dashboard"))
        #expect(page.contains(#"<input type="hidden" name="csrf" value="login-token">"#))
        #expect(page.contains(#"name="username" value="&lt;b&gt;""#))
        #expect(page.contains(#"id="login-submit""#))
    }

    @Test("the chart scales the busiest minute to the full height and leaves empty minutes flat")
    func chartGeometry() {
        let minutes = (0..<60).map { Dashboard.Minute(minute: 29_000_000 + Int64($0), count: $0 == 59 ? 40 : $0 == 0 ? 10 : 0) }
        let chart = MessageChart(minutes: minutes)
        #expect(chart.bars.count == 60)
        #expect(chart.max == 40)
        #expect(chart.bars[59].barHeight == 134 && chart.bars[59].y == 16)
        #expect(chart.bars[0].barHeight == 34)  // 10 × 134 / 40, rounded
        #expect(chart.bars[1].barHeight == 0 && chart.bars[1].y == 150)
        #expect(chart.bars[59].x == 591)
    }
}
