extension Templates {
    static let dashboard = #"""
    <section class="cards">
    <div class="card"><span class="label">在线用户</span><span id="online-users" class="value">{{onlineUsers}}</span></div>
    <div class="card"><span class="label">连接数</span><span id="sockets-total" class="value">{{socketsTotal}}</span></div>
    <div class="card"><span class="label">最近一小时消息</span><span id="messages-last-hour" class="value">{{messagesLastHour}}</span></div>
    <div class="card"><span class="label">死信</span><a id="deadletters-count" class="value" href="/deadletters">{{deadLetters}}</a></div>
    </section>
    <h2>每分钟消息数（最近一小时）</h2>
    {{> chart}}
    <h2>服务进程</h2>
    <table id="nodes">
    <thead><tr><th>进程</th><th>连接数</th><th>在线用户</th><th>上次心跳（秒前）</th></tr></thead>
    <tbody>
    {{#nodes}}<tr class="node"><td class="node-id">{{id}}</td><td class="node-sockets">{{sockets}}</td><td class="node-users">{{users}}</td><td class="node-age">{{age}}</td></tr>
    {{/nodes}}
    </tbody>
    </table>
    {{^nodes}}<p class="empty">没有在线的服务进程</p>{{/nodes}}
    <h2>持久化</h2>
    <table id="streams">
    <thead><tr><th>消息流</th><th>长度</th><th>未读（lag）</th><th>待确认（pending）</th></tr></thead>
    <tbody>
    {{#streams}}<tr data-stream="{{name}}"><td class="name">{{name}}</td><td class="length">{{length}}</td><td class="lag">{{lagText}}</td><td class="pending">{{pending}}</td></tr>
    {{/streams}}
    </tbody>
    </table>
    """#

    /// Numbers only: the bars' geometry is computed by `MessageChart`.
    static let chart = #"""
    <svg id="messages-chart" class="chart" viewBox="0 0 {{width}} {{height}}" width="{{width}}" height="{{height}}" role="img" aria-label="每分钟消息数">
    <line x1="0" y1="{{baseline}}" x2="{{width}}" y2="{{baseline}}" class="axis"/>
    {{#bars}}<rect x="{{x}}" y="{{y}}" width="{{barWidth}}" height="{{barHeight}}"><title>{{label}} {{count}}</title></rect>{{/bars}}
    <text x="0" y="12" class="scale">{{max}}</text>
    </svg>
    """#
}
