extension Templates {
    static let groups = #"""
    <form id="group-search" method="get" action="/groups" class="toolbar">
    <input name="q" value="{{q}}" placeholder="群聊 ID" maxlength="20">
    <button type="submit">搜索</button>
    </form>
    <table id="groups">
    <thead><tr><th>ID</th><th>群名称</th><th>群主</th><th>成员数</th><th>可用状态</th><th>创建时间</th><th>操作</th></tr></thead>
    <tbody>
    {{#rows}}<tr data-group-id="{{id}}"><td class="id">{{id}}</td><td class="name">{{name}}</td><td class="owner">{{ownerID}}</td><td class="members">{{members}}</td><td class="status">{{statusText}}</td><td class="time">{{createTime}}</td><td><a class="detail" href="/groups/{{id}}">查看</a></td></tr>
    {{/rows}}
    </tbody>
    </table>
    {{^rows}}<p class="empty">没有记录</p>{{/rows}}
    {{> pager}}
    """#

    static let group = #"""
    <section class="panel">
    <p>ID：{{id}}　群名称：<span id="group-name">{{name}}</span>　群主：{{ownerID}}　成员数：{{members}}　可用状态：<span id="group-status">{{statusText}}</span></p>
    <div class="actions">
    {{#isActive}}<form id="disable-form" method="post" action="/groups/{{id}}/disable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">禁用</button></form>{{/isActive}}
    {{^isActive}}<form id="enable-form" method="post" action="/groups/{{id}}/enable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">启用</button></form>{{/isActive}}
    </div>
    </section>
    <h2>群成员</h2>
    <table id="members">
    <thead><tr><th>用户 ID</th><th>群昵称</th><th>状态</th><th>加入时间</th></tr></thead>
    <tbody>
    {{#memberRows}}<tr data-user-id="{{userID}}"><td class="id"><a href="/users/{{userID}}">{{userID}}</a></td><td class="nickname">{{nickname}}</td><td class="status">{{statusText}}</td><td class="time">{{createTime}}</td></tr>
    {{/memberRows}}
    </tbody>
    </table>
    """#
}
