-- An operator's change of a chat user (docs/console.md): edit (username, nickname,
-- avatar, password hash: any subset), disable, enable, delete. Checks first, then the
-- row, its entity events (as user_update's: the whole row on the private stream, the
-- public columns on the entities stream), the indexes and the audit row, in one step.
-- A new password, a disable and a delete end the account's sessions in the same step
-- (lib/revoke.lua: token deleted, every live socket kicked): no request or connection
-- gets in between with the old token. Delete closes the account for good: `is_deleted`
-- 1 and `status` 0; its username stays reserved, its friendships, groups and history
-- stay (they are the other side's record too), and it stays listed.
-- KEYS[1] audit_ids: chat:id:admin_audit
-- KEYS[2] audit_list: chat:admin:audit
-- KEYS[3] private: chat:stream:private
-- KEYS[4] user: chat:user:{id}
-- KEYS[5] stream: chat:stream:entities
-- KEYS[6] nicknames: chat:user:nicknames
-- KEYS[7] token: chat_user_{id}
-- KEYS[8] online: online_{id}
-- KEYS[9] online_token: chat:online:token:{id}
-- KEYS[10] sockets: chat:sockets:{id}
-- KEYS[11] nodes: chat:nodes
-- ARGV[1] op: 'edit', 'disable', 'enable' or 'delete'
-- ARGV[2] admin: the operator's name
-- ARGV[3] address: the operator's client address
-- ARGV[4] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[5] stream_cap: the streams' hard cap (MAXLEN ~)
-- ARGV[6] id: the user's id
-- ARGV[7] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[8] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[9] partition_suffix: the user's partition's tag ('' on one Redis), after a
-- process's stream name
-- ARGV[10] steps: '1' on a tagged layout: the claims and the audit row are steps of their
-- own (KEYS[1] and KEYS[2] then repeat `private`, the user's partition's shard, and are
-- not written; the reply carries the audit's action and detail), else '0'
-- @op edit
-- KEYS[12] new_username: chat:user:name:{new username} (the current one's when unchanged);
-- with steps, the partition's chat:user:ids (username -> id)
-- KEYS[13] old_username: chat:user:name:{current username}; with steps, chat:user:ids again
-- KEYS[14] names: chat:user:names
-- ARGV[11] username: the current username the caller read (its key is old_username)
-- ARGV[12] changes: JSON object of the columns to set, any of username, nickname,
-- avatar, password (the new bcrypt hash)
-- @op disable, enable, delete: the common keys and arguments only
-- @end
--
-- Returns {version, kicks}: the row's new version and the kicks sent; with steps
-- {version, kicks, action, detail (JSON)} for the audit step. Errors: 'missing'
-- (no such user, or deleted), 'username_taken' (edit: the new username has an account),
-- 'stale' (edit: the username is no longer the one read; read again), 'bad_arguments'.
-- Audit actions: user.edit (user.password when only the password changes),
-- user.disable, user.enable, user.delete.
--@include audit
--@include revoke
local op, admin, address, now, cap, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local dead_after, prefix, suffix, steps = tonumber(ARGV[7]), ARGV[8], ARGV[9] or '', ARGV[10] == '1'
if (admin or '') == '' or (now or '') == '' or not tonumber(cap) or not tonumber(id) or not dead_after
  or (prefix or '') == '' or #KEYS ~= (op == 'edit' and 14 or 11) then
  return redis.error_reply('bad_arguments')
end
local EDITABLE = { username = true, nickname = true, avatar = true, password = true }

local changes
if op == 'edit' then
  local ok, decoded = pcall(cjson.decode, ARGV[12] or '')
  if not ok or type(decoded) ~= 'table' or next(decoded) == nil then
    return redis.error_reply('bad_arguments')
  end
  for column, value in pairs(decoded) do
    if not EDITABLE[column] or type(value) ~= 'string' or (value == '' and (column == 'username' or column == 'password')) then
      return redis.error_reply('bad_arguments')
    end
  end
  changes = decoded
elseif op ~= 'disable' and op ~= 'enable' and op ~= 'delete' then
  return redis.error_reply('bad_arguments')
end

local current = redis.call('HMGET', KEYS[4], 'id', 'username', 'nickname', 'is_deleted')
if not current[1] or current[4] == '1' then
  return redis.error_reply('missing')
end
local username, nickname = current[2], current[3] or ''

-- Checks done before the first write.
local rename = changes and changes.username and changes.username ~= username
if changes then
  if username ~= ARGV[11] then
    return redis.error_reply('stale')
  end
  if rename and not steps and redis.call('SET', KEYS[12], id, 'NX') == false then
    return redis.error_reply('username_taken')
  end
end

local fields, detail, revoke, action = { 'update_time', now }, {}, false, 'user.' .. op
if changes then
  if rename then
    if steps then
      if redis.call('HGET', KEYS[12], username) == id then
        redis.call('HDEL', KEYS[12], username)
      end
      redis.call('HSET', KEYS[12], changes.username, id)
    elseif redis.call('GET', KEYS[13]) == id then
      redis.call('DEL', KEYS[13])
    end
    redis.call('ZREM', KEYS[14], username)
    redis.call('ZADD', KEYS[14], 0, changes.username)
    fields[#fields + 1] = 'username'
    fields[#fields + 1] = changes.username
    detail.username = { username, changes.username }
  end
  if changes.nickname and changes.nickname ~= nickname then
    redis.call('ZREM', KEYS[6], nickname .. '\0' .. id)
    if changes.nickname ~= '' then
      redis.call('ZADD', KEYS[6], 0, changes.nickname .. '\0' .. id)
    end
    fields[#fields + 1] = 'nickname'
    fields[#fields + 1] = changes.nickname
    detail.nickname = { nickname, changes.nickname }
  end
  if changes.avatar then
    fields[#fields + 1] = 'avatar'
    fields[#fields + 1] = changes.avatar
    detail.avatar = changes.avatar
  end
  if changes.password then
    fields[#fields + 1] = 'password'
    fields[#fields + 1] = changes.password
    detail.password = true
    revoke = true
  end
  local only_password = changes.password and not (detail.username or detail.nickname or detail.avatar)
  action = only_password and 'user.password' or 'user.edit'
elseif op == 'enable' then
  fields[3], fields[4] = 'status', '1'
else
  -- disable, delete
  fields[3], fields[4] = 'status', '0'
  if op == 'delete' then
    fields[5], fields[6] = 'is_deleted', '1'
  end
  revoke = true
end
redis.call('HSET', KEYS[4], unpack(fields))
local version = redis.call('HINCRBY', KEYS[4], '_v', 1)

local kicks = 0
if revoke then
  kicks = revoke_sessions(KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], id, '', dead_after, prefix, suffix)
  detail.kicks = kicks
end

local row = read_hash_row(KEYS[4], { id = true, invite_confirm = true, status = true, is_deleted = true, order = true })
row._v = nil
user_event(KEYS[5], KEYS[3], cap, 'upsert', row.id, version, row, cjson.encode(row))
if steps then
  return { version, kicks, action, cjson.encode(detail) }
end
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, action, 'user', tonumber(id), detail)
return { version, kicks }
