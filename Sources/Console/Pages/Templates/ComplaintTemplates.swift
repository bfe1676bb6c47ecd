extension Templates {
    static let complaints = #"""
    <form id="complaint-filter" method="get" action="/complaints" class="toolbar">
    <select name="status">
    {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}
    </select>
    <button type="submit">筛选</button>
    </form>
    <table id="complaints">
    <thead><tr><th>ID</th><th>投诉人</th><th>被投诉对象</th><th>原因</th><th>状态</th><th>时间</th><th>操作</th></tr></thead>
    <tbody>
    {{#rows}}<tr data-complaint-id="{{id}}"><td class="id">{{id}}</td><td class="reporter">{{reporterName}}（{{userID}}）</td><td class="target">{{targetTypeText}} {{targetName}}（{{targetID}}）</td><td class="reason">{{reason}}</td><td class="status">{{statusText}}</td><td class="time">{{createTime}}</td><td><a class="detail" href="/complaints/{{id}}">处理</a></td></tr>
    {{/rows}}
    </tbody>
    </table>
    {{^rows}}<p class="empty">没有记录</p>{{/rows}}
    {{> pager}}
    """#

    static let complaint = #"""
    <section class="panel">
    <dl>
    <dt>投诉人</dt><dd id="complaint-reporter">{{reporterName}} {{reporterNickname}}（{{userID}}）</dd>
    <dt>被投诉对象</dt><dd id="complaint-target">{{targetTypeText}} {{targetName}}（{{targetID}}）</dd>
    <dt>原因</dt><dd id="complaint-reason">{{reason}}</dd>
    <dt>状态</dt><dd id="complaint-status">{{statusText}}</dd>
    <dt>时间</dt><dd>{{createTime}}</dd>
    {{#isDeleted}}<dt>备注</dt><dd>投诉人已删除此投诉</dd>{{/isDeleted}}
    </dl>
    <div id="complaint-content" class="content">{{content}}</div>
    {{#images}}<a href="{{.}}" rel="noreferrer"><img src="{{.}}" alt="" class="evidence"></a>{{/images}}
    {{#chatInfo}}<pre class="chatinfo">{{chatInfo}}</pre>{{/chatInfo}}
    </section>
    <form id="reply-form" method="post" action="/complaints/{{id}}/reply" class="panel">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label>处理状态 <select name="status">
    {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}
    </select></label>
    <label>回复 <textarea name="admin_reply" rows="4" maxlength="2000">{{adminReply}}</textarea></label>
    <button id="reply-submit" type="submit">提交</button>
    </form>
    """#
}
