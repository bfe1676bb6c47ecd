-- Every change of a group and its members (docs/api.md, *Groups*). Checks first, then the
-- writes, each with its entity event ('group', 'group_user') in this same script. The
-- group row is the hash chat:group:{gid} (columns + `_v`); member rows are JSON in
-- chat:group:{gid}:members (field: uid; columns + `_v`); chat:user:{uid}:groups holds the
-- gids where uid is a member (status 1 or 0, not an applicant). Every change of who is an
-- active member increments chat:group:{gid}:members:v, which the send script compares
-- with the member list the bridge cached.
--
-- KEYS[1] group: chat:group:{gid}
-- KEYS[2] members: chat:group:{gid}:members
-- KEYS[3] members_version: chat:group:{gid}:members:v
-- KEYS[4] stream: chat:stream:entities
-- ARGV[1] op: 'create', 'rename', 'remark', 'policy', 'nickname', 'remove', 'join', 'decide' or 'leave'
-- ARGV[2] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] me: the caller's uid
--
-- The group avatar is recomputed (join, approval, removal) from the first 9 active
-- members by row id: their group avatar, else their user avatar. The caller passes the
-- chat:user:{uid} keys of the members it expects there (the "avatar keys", each with its
-- uid in ARGV: no key name is made here); a member whose key is missing means the
-- members changed since the caller read them: the reply {'stale', uid…} (before any
-- write) names the users whose keys are needed, and the caller sends again with them.
--
-- A user who blocks me (chat:blocks:{uid}, docs/api.md *Blocks*) is not put into a group
-- by me: neither at its creation nor by an invitation ('blocked').
--
-- @op create: 'stale' when one of the members is no longer active, 'blocked' when one
-- of them blocks me, 'id_taken' when the new gid has a row or members already (never
-- overwritten). Returns {'created'}.
-- KEYS[5] groups: chat:groups (every gid, for the operators' console)
-- KEYS[6...] member_user, member_groups, member_blocks: for each member (me first),
-- chat:user:{uid}, chat:user:{uid}:groups and chat:blocks:{uid}
-- ARGV[5] group_id: the new gid
-- ARGV[6] uuid: the group's uuid
-- ARGV[7] name: the group's name
-- ARGV[8] avatar: the group's avatar
-- ARGV[9] first_row_id: the first member row's id (the next ones follow)
-- ARGV[10...] member: the members' uids, me first
-- @op rename, remark, policy: 'not_owner' unless the group is active and mine.
-- ARGV[5] value: the new name, remark or invite_confirm
-- @op nickname: 'not_member' unless my row has status 1.
-- ARGV[5] nickname: my group nickname
-- @op remove: 'not_owner' unless the group is mine; 'self' for my own uid.
-- KEYS[5] user_groups: chat:user:{uid}:groups
-- KEYS[6...] avatar_user: the avatar keys
-- ARGV[5] user: the uid removed
-- ARGV[6...] avatar_user_id: the avatar keys' uids, in their order
-- @op join: 'group_missing' (not active), 'illegal' (I am neither the joiner nor an
-- active member), 'pending' / 'already' (the joiner has a row), 'full' (the group has
-- max_members rows, applicants included, so that an approval never goes beyond), 'joiner_missing',
-- 'login_first' (policy 2, a visitor not invited by the owner), 'blocked' (I invite a
-- joiner who blocks me). The owner's invitation counts only when the owner calls (nobody
-- else can claim it).
-- KEYS[5] joiner_user: chat:user:{joiner}
-- KEYS[6] joiner_groups: chat:user:{joiner}:groups
-- KEYS[7] joiner_blocks: chat:blocks:{joiner}
-- KEYS[8...] avatar_user: the avatar keys
-- ARGV[5] joiner: the joiner's uid
-- ARGV[6] inviter: inviteuser_id
-- ARGV[7] row_id: the new row's id
-- ARGV[8] max_members: the members per group (--group-max-members)
-- ARGV[9...] avatar_user_id: the avatar keys' uids, in their order
-- @op decide: 'not_owner'; 'illegal' when uid is not waiting.
-- KEYS[5] user_groups: chat:user:{uid}:groups
-- KEYS[6...] avatar_user: the avatar keys
-- ARGV[5] user: the uid decided on
-- ARGV[6] decision: 'agree' or 'no'
-- ARGV[7...] avatar_user_id: the avatar keys' uids, in their order
-- @op leave: 'missing' (no group), 'not_member', 'stale' (keys missing).
-- KEYS[5] history: chatlog:group_{gid}
-- KEYS[6...] member_groups: chat:user:{uid}:groups of every member when I own the group
-- (the group is dissolved), else mine (I quit)
-- ARGV[5...] member_id: the uids of those keys, in their order
-- @end
--
-- Replies after a change: {result, group row JSON (API columns; for 'dissolved' as it
-- was), my member row JSON or '', uids…}: the users the change's notice goes to.
-- result 'OK' (rename, remark: every member but applicants), 'joined' (active members) or
-- 'waiting' (the owner), 'agreed' (active members) or 'refused', 'dissolved' (every row)
-- or 'quit' (the owner), 'removed', 'set' (policy, nickname).
--@include rows
--@include groups
local op, cap, now, me = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not tonumber(cap) or (now or '') == '' or not tonumber(me) then
  return redis.error_reply('bad_arguments')
end

local MEMBER = { 'id', 'group_id', 'user_id', 'nickname', 'avatar', 'status', 'order', 'create_time', 'update_time' }

local function read_group()
  return read_hash_row(KEYS[1], GROUP_INTEGERS)
end

local function write_group(row)
  row.update_time = now
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
  redis.call('HSET', KEYS[1], unpack(fields))
  entity_event(KEYS[4], cap, 'group', 'upsert', row.id, row._v, encode_row(row, GROUP))
end

local function read_members()
  local flat = redis.call('HGETALL', KEYS[2])
  local rows = {}
  for i = 2, #flat, 2 do
    rows[#rows + 1] = cjson.decode(flat[i])
  end
  table.sort(rows, function(a, b) return a.id < b.id end)
  return rows
end

local function read_member(uid)
  local json = redis.call('HGET', KEYS[2], uid)
  return json and cjson.decode(json) or nil
end

local function write_member(row)
  row.update_time = now
  row._v = (row._v or 0) + 1
  redis.call('HSET', KEYS[2], string.format('%d', row.user_id), encode_row(row, MEMBER, row._v))
  entity_event(KEYS[4], cap, 'group_user', 'upsert', row.id, row._v, encode_row(row, MEMBER))
end

local function delete_member(row)
  redis.call('HDEL', KEYS[2], string.format('%d', row.user_id))
  entity_event(KEYS[4], cap, 'group_user', 'delete', row.id, (row._v or 0) + 1, encode_row(row, MEMBER))
end

local function new_member(id, gid, uid, status)
  return { id = id, group_id = gid, user_id = uid, nickname = '', avatar = '', status = status, order = 50,
    create_time = now, update_time = now }
end

local function bump_members()
  if redis.call('EXISTS', KEYS[3]) == 0 then
    local time = redis.call('TIME')
    redis.call('SET', KEYS[3], time[1] .. string.format('%06d', tonumber(time[2])))
  end
  redis.call('INCR', KEYS[3])
end

-- The uids of the rows that pass `keep`, by row id.
local function uids(rows, keep)
  local list = {}
  for _, row in ipairs(rows) do
    if keep(row) then list[#list + 1] = string.format('%d', row.user_id) end
  end
  return list
end
local function active(row) return row.status == 1 end
local function not_waiting(row) return row.status ~= 2 end

-- The keys KEYS[first_key…] by the uids ARGV[first_argument…] (one each, in order).
local function keys_by_uid(first_key, first_argument)
  local keys = {}
  for i = first_key, #KEYS do
    local uid = ARGV[first_argument + i - first_key]
    if uid then keys[uid] = KEYS[i] end
  end
  return keys
end

-- The avatar recomputation, in two steps so that a missing key is found before any
-- write: `avatar_sources` lists, for the members as they WILL be (`rows`, by row id), the
-- first 9 active members' group avatar or user key; when a user key the caller did not
-- pass is needed, it answers nil and the uids whose keys are needed (the reply
-- {'stale', uid…}: the caller passes them next time); `apply_avatar` writes the group
-- avatar from the list.
local function avatar_sources(rows, first_key, first_argument)
  local provided = keys_by_uid(first_key, first_argument)
  local sources, needed, missing = {}, {}, false
  for _, row in ipairs(rows) do
    if #sources == 9 then break end
    if row.status == 1 then
      if type(row.avatar) == 'string' and row.avatar ~= '' then
        sources[#sources + 1] = { avatar = row.avatar }
      else
        local uid = string.format('%d', row.user_id)
        local key = provided[uid]
        missing = missing or not key
        needed[#needed + 1] = uid
        sources[#sources + 1] = { key = key }
      end
    end
  end
  if missing then
    table.insert(needed, 1, 'stale')
    return nil, needed
  end
  return sources
end

local function apply_avatar(group, sources)
  if #sources == 0 then return end
  local avatars = {}
  for i, source in ipairs(sources) do
    avatars[i] = source.avatar or redis.call('HGET', source.key, 'avatar') or ''
  end
  local avatar = table.concat(avatars, ',')
  if avatar ~= group.avatar then
    group.avatar = avatar
    write_group(group)
  end
end

-- The member rows, by row id, with `row` put in (or, when `remove`, taken out).
local function members_with(row, remove)
  local rows = {}
  for _, existing in ipairs(read_members()) do
    if existing.user_id ~= row.user_id then rows[#rows + 1] = existing end
  end
  if not remove then rows[#rows + 1] = row end
  table.sort(rows, function(a, b) return a.id < b.id end)
  return rows
end

local function reply(result, group, mine, recipients)
  local out = { result, encode_row(group, GROUP), mine and encode_row(mine, MEMBER) or '' }
  for _, uid in ipairs(recipients or {}) do out[#out + 1] = uid end
  return out
end

local function owned_active(group)
  return group and group.status == 1 and string.format('%d', group.user_id) == me
end

if op == 'create' then
  local gid, first_row = tonumber(ARGV[5]), tonumber(ARGV[9])
  local count = #ARGV - 9
  if not gid or not first_row or count < 1 or #KEYS ~= 5 + 3 * count or ARGV[10] ~= me then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
    return redis.error_reply('id_taken')
  end
  for i = 1, count do
    if redis.call('HGET', KEYS[3 + 3 * i], 'status') ~= '1' then
      return redis.error_reply('stale')
    end
  end
  for i = 2, count do
    if redis.call('HEXISTS', KEYS[5 + 3 * i], me) == 1 then
      return redis.error_reply('blocked')
    end
  end
  local group = { id = gid, uuid = ARGV[6], user_id = tonumber(me), name = ARGV[7], avatar = ARGV[8],
    invite_confirm = 0, status = 1, order = 50, create_time = now }
  write_group(group)
  redis.call('ZADD', KEYS[5], gid, gid)
  for i = 1, count do
    write_member(new_member(first_row + i - 1, gid, tonumber(ARGV[9 + i]), 1))
    redis.call('ZADD', KEYS[4 + 3 * i], gid, gid)
  end
  bump_members()
  return { 'created' }
end

local group = read_group()

if op == 'rename' or op == 'remark' or op == 'policy' then
  local value = ARGV[5]
  if (value or '') == '' or #KEYS ~= 4 or (op == 'policy' and not tonumber(value)) then
    return redis.error_reply('bad_arguments')
  end
  if not owned_active(group) then
    return redis.error_reply('not_owner')
  end
  if op == 'rename' then
    group.name = value
  elseif op == 'remark' then
    group.remark = value
  else
    group.invite_confirm = tonumber(value)
  end
  write_group(group)
  if op == 'policy' then
    return reply('set', group)
  end
  return reply('OK', group, read_member(me), uids(read_members(), not_waiting))
end

if op == 'nickname' then
  if (ARGV[5] or '') == '' or #KEYS ~= 4 then
    return redis.error_reply('bad_arguments')
  end
  local mine = read_member(me)
  if not mine or mine.status ~= 1 then
    return redis.error_reply('not_member')
  end
  mine.nickname = ARGV[5]
  write_member(mine)
  return { 'set' }
end

if op == 'remove' then
  local uid = ARGV[5]
  if not tonumber(uid) or #KEYS < 5 then
    return redis.error_reply('bad_arguments')
  end
  if not group or string.format('%d', group.user_id) ~= me then
    return redis.error_reply('not_owner')
  end
  if uid == me then
    return redis.error_reply('self')
  end
  local row = read_member(uid)
  local sources, needed = avatar_sources(row and members_with(row, true) or read_members(), 6, 6)
  if not sources then
    return needed
  end
  if row then
    delete_member(row)
    redis.call('ZREM', KEYS[5], group.id)
    bump_members()
  end
  apply_avatar(group, sources)
  return reply('removed', group)
end

if op == 'join' then
  local joiner, inviter, row_id, max_members = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  if not tonumber(joiner) or not inviter or not row_id or not max_members or #KEYS < 7 then
    return redis.error_reply('bad_arguments')
  end
  if not group or group.status ~= 1 then
    return redis.error_reply('group_missing')
  end
  if joiner ~= me then
    local mine = read_member(me)
    if not mine or mine.status ~= 1 then
      return redis.error_reply('illegal')
    end
    if redis.call('HEXISTS', KEYS[7], me) == 1 then
      return redis.error_reply('blocked')
    end
  end
  local existing = read_member(joiner)
  if existing then
    return redis.error_reply(existing.status == 2 and 'pending' or 'already')
  end
  if redis.call('HLEN', KEYS[2]) >= max_members then
    return redis.error_reply('full')
  end
  local user = redis.call('HMGET', KEYS[5], 'status', 'role')
  if user[1] ~= '1' then
    return redis.error_reply('joiner_missing')
  end
  local by_owner = inviter == group.user_id and me == string.format('%d', group.user_id)
  if group.invite_confirm == 2 and not by_owner and user[2] == 'visitor' then
    return redis.error_reply('login_first')
  end
  local waiting = group.invite_confirm == 1 and not by_owner
  local row = new_member(row_id, group.id, tonumber(joiner), waiting and 2 or 1)
  if waiting then
    write_member(row)
    return reply('waiting', group, nil, { string.format('%d', group.user_id) })
  end
  local rows = members_with(row)
  local sources, needed = avatar_sources(rows, 8, 9)
  if not sources then
    return needed
  end
  write_member(row)
  redis.call('ZADD', KEYS[6], group.id, group.id)
  bump_members()
  apply_avatar(group, sources)
  return reply('joined', group, nil, uids(rows, active))
end

if op == 'decide' then
  local uid, decision = ARGV[5], ARGV[6]
  if not tonumber(uid) or (decision ~= 'agree' and decision ~= 'no') or #KEYS < 5 then
    return redis.error_reply('bad_arguments')
  end
  if not owned_active(group) then
    return redis.error_reply('not_owner')
  end
  local row = read_member(uid)
  if not row or row.status ~= 2 then
    return redis.error_reply('illegal')
  end
  if decision == 'no' then
    delete_member(row)
    return reply('refused', group)
  end
  row.status = 1
  local rows = members_with(row)
  local sources, needed = avatar_sources(rows, 6, 7)
  if not sources then
    return needed
  end
  write_member(row)
  redis.call('ZADD', KEYS[5], group.id, group.id)
  bump_members()
  apply_avatar(group, sources)
  return reply('agreed', group, nil, uids(rows, active))
end

if op == 'leave' then
  if #KEYS < 6 then
    return redis.error_reply('bad_arguments')
  end
  if not group then
    return redis.error_reply('missing')
  end
  local mine = read_member(me)
  if not mine then
    return redis.error_reply('not_member')
  end
  local provided = keys_by_uid(6, 5)
  local owner = string.format('%d', group.user_id)
  if owner ~= me then
    if not provided[me] then
      return redis.error_reply('stale')
    end
    delete_member(mine)
    redis.call('ZREM', provided[me], group.id)
    bump_members()
    return reply('quit', group, mine, { owner })
  end
  local rows = read_members()
  for _, row in ipairs(rows) do
    if not provided[string.format('%d', row.user_id)] then
      return redis.error_reply('stale')
    end
  end
  for _, row in ipairs(rows) do
    delete_member(row)
    redis.call('ZREM', provided[string.format('%d', row.user_id)], group.id)
  end
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[5])
  redis.call('DEL', KEYS[5] .. ':ids') -- the history's index (lib/messages.lua)
  entity_event(KEYS[4], cap, 'group', 'delete', group.id, (group._v or 0) + 1, encode_row(group, GROUP))
  return reply('dissolved', group, mine, uids(rows, function() return true end))
end

return redis.error_reply('bad_arguments')
