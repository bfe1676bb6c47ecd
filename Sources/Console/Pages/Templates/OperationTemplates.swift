extension Templates {
    static let deadLetters = #"""
    <p class="hint">持久化多次失败的消息流条目。修复原因后重放（写回原消息流，再删除死信），或丢弃。</p>
    <form id="replay-all-form" method="post" action="/deadletters/replay-all" class="toolbar">
    <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">全部重放</button>
    </form>
    <table id="deadletters">
    <thead><tr><th>死信 ID</th><th>来源消息流</th><th>原条目</th><th>类型</th><th>尝试次数</th><th>错误</th><th>操作</th></tr></thead>
    <tbody>
    {{#rows}}<tr data-entry-id="{{id}}"><td class="id">{{id}}</td><td class="stream">{{stream}}</td><td class="entry">{{entry}}</td><td class="kind">{{kind}}</td><td class="attempts">{{attempts}}</td><td class="error">{{error}}</td>
    <td class="actions"><form class="replay-form" method="post" action="/deadletters/{{id}}/replay"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">重放</button></form>
    <form class="drop-form" method="post" action="/deadletters/{{id}}/drop"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">丢弃</button></form></td></tr>
    {{/rows}}
    </tbody>
    </table>
    {{^rows}}<p class="empty">没有死信</p>{{/rows}}
    {{> pager}}
    """#

    static let audit = #"""
    <table id="audit">
    <thead><tr><th>ID</th><th>时间</th><th>管理员</th><th>操作</th><th>对象</th><th>详情</th><th>地址</th></tr></thead>
    <tbody>
    {{#rows}}<tr class="audit" data-audit-id="{{id}}"><td class="id">{{id}}</td><td class="time">{{createTime}}</td><td class="admin">{{admin}}</td><td class="action">{{action}}</td><td class="target">{{target}}</td><td class="detail">{{detail}}</td><td class="address">{{address}}</td></tr>
    {{/rows}}
    </tbody>
    </table>
    {{^rows}}<p class="empty">没有记录</p>{{/rows}}
    {{> pager}}
    """#
}
