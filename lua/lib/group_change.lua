-- The changes of a group and its members (docs/api.md, *Groups*), one function per
-- operation, shared by `group_update` (one run: every key in one partition, always on one
-- Redis) and `group_step`'s first step (the group's partition only, on a tagged layout).
-- Each takes a context `g`:
--   g.group, g.members, g.version, g.stream: the group's keys (row hash, member rows,
--   members version, the entities stream of the group's partition); g.cap, g.now, g.me;
--   g.status(uid): a user's row's `status` (or nil); g.user(uid): its `status` and `role`;
--   g.blocks_me(uid): whether uid blocks me;
--   g.avatar(uid): a source of uid's user avatar ({ key = chat:user:{uid} } to read, or
--   { avatar = text } read before), nil when the caller did not pass it;
--   g.reaches(uid): whether uid's group list can be changed (a key passed, or a step);
--   g.listed(uid, gid) / g.unlisted(uid, gid): uid's group list gains / loses gid (one
--   run: ZADD / ZREM on its key; steps: recorded for the member partition's step).
-- They answer what group_update.lua replies (a table, or an error reply).
--@include rows
--@include groups

local GROUP_MEMBER = { 'id', 'group_id', 'user_id', 'nickname', 'avatar', 'status', 'order', 'create_time', 'update_time' }

local function group_read(g)
  return read_hash_row(g.group, GROUP_INTEGERS)
end

local function group_write(g, row)
  row.update_time = g.now
  row._v = (row._v or 0) + 1
  local fields = {}
  for _, column in ipairs(GROUP) do
    local value = row[column]
    if value ~= nil and value ~= cjson.null then
      fields[#fields + 1] = column
      fields[#fields + 1] = type(value) == 'number' and string.format('%d', value) or value
    end
  end
  fields[#fields + 1] = '_v'
  fields[#fields + 1] = row._v
  redis.call('HSET', g.group, unpack(fields))
  entity_event(g.stream, g.cap, 'group', 'upsert', row.id, row._v, encode_row(row, GROUP))
end

local function group_members(g)
  local flat = redis.call('HGETALL', g.members)
  local rows = {}
  for i = 2, #flat, 2 do
    rows[#rows + 1] = cjson.decode(flat[i])
  end
  table.sort(rows, function(a, b) return a.id < b.id end)
  return rows
end

local function group_member(g, uid)
  local json = redis.call('HGET', g.members, uid)
  return json and cjson.decode(json) or nil
end

local function group_member_write(g, row)
  row.update_time = g.now
  row._v = (row._v or 0) + 1
  redis.call('HSET', g.members, string.format('%d', row.user_id), encode_row(row, GROUP_MEMBER, row._v))
  entity_event(g.stream, g.cap, 'group_user', 'upsert', row.id, row._v, encode_row(row, GROUP_MEMBER))
end

local function group_member_delete(g, row)
  redis.call('HDEL', g.members, string.format('%d', row.user_id))
  entity_event(g.stream, g.cap, 'group_user', 'delete', row.id, (row._v or 0) + 1, encode_row(row, GROUP_MEMBER))
end

local function group_new_member(g, id, gid, uid, status)
  return { id = id, group_id = gid, user_id = uid, nickname = '', avatar = '', status = status, order = 50,
    create_time = g.now, update_time = g.now }
end

-- Every change of who is an active member: the send script compares this counter with
-- the member list the bridge cached.
local function group_bump_members(g)
  if redis.call('EXISTS', g.version) == 0 then
    local time = redis.call('TIME')
    redis.call('SET', g.version, time[1] .. string.format('%06d', tonumber(time[2])))
  end
  redis.call('INCR', g.version)
end

-- The uids of the rows that pass `keep`, by row id.
local function group_uids(rows, keep)
  local list = {}
  for _, row in ipairs(rows) do
    if keep(row) then list[#list + 1] = string.format('%d', row.user_id) end
  end
  return list
end
local function group_active_row(row) return row.status == 1 end
local function group_not_waiting(row) return row.status ~= 2 end

-- The avatar recomputation, in two steps so that a missing source is found before any
-- write: `group_avatar_sources` lists, for the members as they WILL be (`rows`, by row
-- id), the first 9 active members' group avatar or user avatar source; when a source the
-- caller did not pass is needed, it answers nil and the uids whose sources are needed
-- (the reply {'stale', uid…}: the caller passes them next time); `group_apply_avatar`
-- writes the group avatar from the list.
local function group_avatar_sources(g, rows)
  local sources, needed, missing = {}, {}, false
  for _, row in ipairs(rows) do
    if #sources == 9 then break end
    if row.status == 1 then
      if type(row.avatar) == 'string' and row.avatar ~= '' then
        sources[#sources + 1] = { avatar = row.avatar }
      else
        local uid = string.format('%d', row.user_id)
        local source = g.avatar(uid)
        missing = missing or not source
        needed[#needed + 1] = uid
        sources[#sources + 1] = source or {}
      end
    end
  end
  if missing then
    table.insert(needed, 1, 'stale')
    return nil, needed
  end
  return sources
end

local function group_apply_avatar(g, group, sources)
  if #sources == 0 then return end
  local avatars = {}
  for i, source in ipairs(sources) do
    avatars[i] = source.avatar or redis.call('HGET', source.key, 'avatar') or ''
  end
  local avatar = table.concat(avatars, ',')
  if avatar ~= group.avatar then
    group.avatar = avatar
    group_write(g, group)
  end
end

-- The member rows, by row id, with `row` put in (or, when `remove`, taken out).
local function group_members_with(g, row, remove)
  local rows = {}
  for _, existing in ipairs(group_members(g)) do
    if existing.user_id ~= row.user_id then rows[#rows + 1] = existing end
  end
  if not remove then rows[#rows + 1] = row end
  table.sort(rows, function(a, b) return a.id < b.id end)
  return rows
end

local function group_reply(result, group, mine, recipients)
  local out = { result, encode_row(group, GROUP), mine and encode_row(mine, GROUP_MEMBER) or '' }
  for _, uid in ipairs(recipients or {}) do out[#out + 1] = uid end
  return out
end

local function group_owned_active(g, group)
  return group and group.status == 1 and string.format('%d', group.user_id) == g.me
end

-- create: `members` the uids (me first), `index` the console's list of groups.
local function group_create(g, index, gid, uuid, name, avatar, first_row, members)
  if redis.call('EXISTS', g.group, g.members) > 0 then
    return redis.error_reply('id_taken')
  end
  for _, uid in ipairs(members) do
    if g.status(uid) ~= '1' then
      return redis.error_reply('stale')
    end
  end
  for i = 2, #members do
    if g.blocks_me(members[i]) then
      return redis.error_reply('blocked')
    end
  end
  local group = { id = gid, uuid = uuid, user_id = tonumber(g.me), name = name, avatar = avatar,
    invite_confirm = 0, status = 1, order = 50, create_time = g.now }
  group_write(g, group)
  redis.call('ZADD', index, gid, gid)
  for i, uid in ipairs(members) do
    group_member_write(g, group_new_member(g, first_row + i - 1, gid, tonumber(uid), 1))
    g.listed(uid, gid)
  end
  group_bump_members(g)
  return { 'created' }
end

-- rename, remark, policy: the owner's settings of an active group.
local function group_set(g, group, op, value)
  if not group_owned_active(g, group) then
    return redis.error_reply('not_owner')
  end
  if op == 'rename' then
    group.name = value
  elseif op == 'remark' then
    group.remark = value
  else
    group.invite_confirm = tonumber(value)
  end
  group_write(g, group)
  if op == 'policy' then
    return group_reply('set', group)
  end
  return group_reply('OK', group, group_member(g, g.me), group_uids(group_members(g), group_not_waiting))
end

local function group_nickname(g, nickname)
  local mine = group_member(g, g.me)
  if not mine or mine.status ~= 1 then
    return redis.error_reply('not_member')
  end
  mine.nickname = nickname
  group_member_write(g, mine)
  return { 'set' }
end

local function group_remove(g, group, uid)
  if not group or string.format('%d', group.user_id) ~= g.me then
    return redis.error_reply('not_owner')
  end
  if uid == g.me then
    return redis.error_reply('self')
  end
  local row = group_member(g, uid)
  local sources, needed = group_avatar_sources(g, row and group_members_with(g, row, true) or group_members(g))
  if not sources then
    return needed
  end
  if row then
    group_member_delete(g, row)
    g.unlisted(uid, group.id)
    group_bump_members(g)
  end
  group_apply_avatar(g, group, sources)
  return group_reply('removed', group)
end

-- join: `inviter` the inviteuser_id, `row_id` the new row's id.
local function group_join(g, group, joiner, inviter, row_id, max_members)
  if not group or group.status ~= 1 then
    return redis.error_reply('group_missing')
  end
  if joiner ~= g.me then
    local mine = group_member(g, g.me)
    if not mine or mine.status ~= 1 then
      return redis.error_reply('illegal')
    end
    if g.blocks_me(joiner) then
      return redis.error_reply('blocked')
    end
  end
  local existing = group_member(g, joiner)
  if existing then
    return redis.error_reply(existing.status == 2 and 'pending' or 'already')
  end
  if redis.call('HLEN', g.members) >= max_members then
    return redis.error_reply('full')
  end
  local status, role = g.user(joiner)
  if status ~= '1' then
    return redis.error_reply('joiner_missing')
  end
  local by_owner = inviter == group.user_id and g.me == string.format('%d', group.user_id)
  if group.invite_confirm == 2 and not by_owner and role == 'visitor' then
    return redis.error_reply('login_first')
  end
  local waiting = group.invite_confirm == 1 and not by_owner
  local row = group_new_member(g, row_id, group.id, tonumber(joiner), waiting and 2 or 1)
  if waiting then
    group_member_write(g, row)
    return group_reply('waiting', group, nil, { string.format('%d', group.user_id) })
  end
  local rows = group_members_with(g, row)
  local sources, needed = group_avatar_sources(g, rows)
  if not sources then
    return needed
  end
  group_member_write(g, row)
  g.listed(joiner, group.id)
  group_bump_members(g)
  group_apply_avatar(g, group, sources)
  return group_reply('joined', group, nil, group_uids(rows, group_active_row))
end

-- decide: the owner agrees to (or refuses) an applicant.
local function group_decide(g, group, uid, agree)
  if not group_owned_active(g, group) then
    return redis.error_reply('not_owner')
  end
  local row = group_member(g, uid)
  if not row or row.status ~= 2 then
    return redis.error_reply('illegal')
  end
  if not agree then
    group_member_delete(g, row)
    return group_reply('refused', group)
  end
  row.status = 1
  local rows = group_members_with(g, row)
  local sources, needed = group_avatar_sources(g, rows)
  if not sources then
    return needed
  end
  group_member_write(g, row)
  g.listed(uid, group.id)
  group_bump_members(g)
  group_apply_avatar(g, group, sources)
  return group_reply('agreed', group, nil, group_uids(rows, group_active_row))
end

-- leave: a member quits; the owner dissolves the group (`history` its history list).
local function group_leave(g, group, history)
  if not group then
    return redis.error_reply('missing')
  end
  local mine = group_member(g, g.me)
  if not mine then
    return redis.error_reply('not_member')
  end
  local owner = string.format('%d', group.user_id)
  if owner ~= g.me then
    if not g.reaches(g.me) then
      return redis.error_reply('stale')
    end
    group_member_delete(g, mine)
    g.unlisted(g.me, group.id)
    group_bump_members(g)
    return group_reply('quit', group, mine, { owner })
  end
  local rows = group_members(g)
  for _, row in ipairs(rows) do
    if not g.reaches(string.format('%d', row.user_id)) then
      return redis.error_reply('stale')
    end
  end
  for _, row in ipairs(rows) do
    group_member_delete(g, row)
    g.unlisted(string.format('%d', row.user_id), group.id)
  end
  redis.call('DEL', g.group, g.members, g.version, history)
  redis.call('DEL', history .. ':ids') -- the history's index (lib/messages.lua)
  entity_event(g.stream, g.cap, 'group', 'delete', group.id, (group._v or 0) + 1, encode_row(group, GROUP))
  return group_reply('dissolved', group, mine, group_uids(rows, function() return true end))
end
