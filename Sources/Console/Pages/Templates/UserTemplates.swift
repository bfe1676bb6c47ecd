extension Templates {
    static let users = #"""
    <form id="user-search" method="get" action="/users" class="toolbar">
    <input name="q" value="{{q}}" placeholder="ID、即时通讯用户账号或昵称（前缀）" maxlength="64">
    <button type="submit">搜索</button>
    <a id="user-new" class="button" href="/users/new">新增即时通讯用户</a>
    </form>
    <table id="users">
    <thead><tr><th>ID</th><th>即时通讯用户头像</th><th>即时通讯用户账号</th><th>昵称</th><th>可用状态</th><th>创建时间</th><th>操作</th></tr></thead>
    <tbody>
    {{#rows}}<tr data-user-id="{{id}}"><td class="id">{{id}}</td><td class="avatar">{{#hasAvatar}}<img src="{{avatar}}" alt="" width="32" height="32">{{/hasAvatar}}</td><td class="username">{{username}}</td><td class="nickname">{{nickname}}</td><td class="status">{{statusText}}</td><td class="time">{{createTime}}</td><td><a class="edit" href="/users/{{id}}">修改</a></td></tr>
    {{/rows}}
    </tbody>
    </table>
    {{^rows}}<p class="empty">没有记录</p>{{/rows}}
    {{> pager}}
    """#

    static let userForm = #"""
    <form id="user-form" method="post" action="{{action}}" class="panel">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label>即时通讯用户账号 <input name="username" value="{{username}}" required minlength="4" maxlength="20"></label>
    <label>即时通讯用户密码 <input name="password" type="password" {{#isNew}}required {{/isNew}}minlength="6" maxlength="20" autocomplete="new-password"></label>
    {{^isNew}}<p class="hint">留空则不修改密码；修改后该用户所有登录失效。</p>{{/isNew}}
    <label>昵称 <input name="nickname" value="{{nickname}}" maxlength="30"></label>
    <label>即时通讯用户头像 <input name="avatar" value="{{avatar}}" maxlength="1000"></label>
    {{#hasAvatar}}<img class="avatar-preview" src="{{avatar}}" alt="" width="64" height="64">{{/hasAvatar}}
    <button id="user-submit" type="submit">{{#isNew}}创建{{/isNew}}{{^isNew}}修改{{/isNew}}</button>
    </form>
    {{^isNew}}
    <section class="panel">
    <p>ID：<span id="user-id">{{id}}</span>　可用状态：<span id="user-status">{{statusText}}</span>　创建时间：{{createTime}}</p>
    <div class="actions">
    {{#canDisable}}<form id="disable-form" method="post" action="/users/{{id}}/disable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">禁用</button></form>{{/canDisable}}
    {{#canEnable}}<form id="enable-form" method="post" action="/users/{{id}}/enable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">启用</button></form>{{/canEnable}}
    {{#canDelete}}<form id="delete-form" method="post" action="/users/{{id}}/delete"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">删除</button></form>{{/canDelete}}
    </div>
    <p class="hint">删除：账号永久关闭，不能再登录，账号名保留；好友、群成员和聊天记录保留。</p>
    </section>
    {{/isNew}}
    """#
}
