/// The page frame, the pager and the error page. Every `{{value}}` is HTML-escaped by
/// Mustache; the only unescaped one, `{{{body}}}`, is a page this renderer produced.
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "pager": pager, "error": error, "login": login, "dashboard": dashboard, "chart": chart,
        "users": users, "user-form": userForm, "complaints": complaints, "complaint": complaint, "groups": groups,
        "group": group, "deadletters": deadLetters, "audit": audit,
    ]

    static let layout = #"""
    <!DOCTYPE html>
    <html lang="zh-CN">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} - 即时通讯后台</title>
    <link rel="stylesheet" href="/static/console.css">
    </head>
    <body>
    {{#admin}}
    <header>
    <nav>
    <a id="nav-dashboard" href="/"{{#navDashboard}} class="active"{{/navDashboard}}>运行概况</a>
    <a id="nav-users" href="/users"{{#navUsers}} class="active"{{/navUsers}}>即时通讯用户管理</a>
    <a id="nav-complaints" href="/complaints"{{#navComplaints}} class="active"{{/navComplaints}}>投诉管理</a>
    <a id="nav-groups" href="/groups"{{#navGroups}} class="active"{{/navGroups}}>群聊管理</a>
    <a id="nav-deadletters" href="/deadletters"{{#navDeadletters}} class="active"{{/navDeadletters}}>死信</a>
    <a id="nav-audit" href="/audit"{{#navAudit}} class="active"{{/navAudit}}>操作日志</a>
    </nav>
    <div class="who">管理员 <span id="admin-name">{{admin}}</span>
    <form id="logout-form" method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">退出登录</button></form>
    </div>
    </header>
    {{/admin}}
    <main>
    <h1>{{title}}</h1>
    {{#flash}}<p id="flash" class="flash">{{flash}}</p>{{/flash}}
    {{#error}}<p id="error" class="error">{{error}}</p>{{/error}}
    {{{body}}}
    </main>
    </body>
    </html>
    """#

    static let pager = #"""
    <nav class="pager">
    {{#prev}}<a id="prev-page" href="{{prev}}">上一页</a>{{/prev}}
    <span class="page">第 {{page}} 页</span>
    {{#next}}<a id="next-page" href="{{next}}">下一页</a>{{/next}}
    </nav>
    """#

    static let error = #"""
    <p><a href="/">返回首页</a></p>
    """#

    static let login = #"""
    <form id="login-form" method="post" action="/login" class="panel">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label>管理员账号 <input name="username" value="{{username}}" required maxlength="64" autocomplete="username" autofocus></label>
    <label>密码 <input name="password" type="password" required maxlength="128" autocomplete="current-password"></label>
    <button id="login-submit" type="submit">登录</button>
    </form>
    """#
}
