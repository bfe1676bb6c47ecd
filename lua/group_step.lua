-- The membership changes of a group (and an operator's group status) on a tagged layout,
-- as steps (docs/architecture.md, *Redis Cluster: partitions and steps*), each one run on
-- one partition, sharing lib/group_change.lua with the one-run group_update.
--
-- A change has an id (change_id). Its first step runs in the group's partition: the
-- checks (the facts of users of other partitions read there before, passed here), the
-- group's rows and events, and, when members' group lists change, a `pending` record
-- (the id in chat:group:pending by deadline; in chat:group:pending:records the JSON
-- {"group": gid, "changes": [[uid, listed 1/0, active 1/0], …]}). Then one `members` run
-- per partition of those members: their group list chat:user:{uid}:groups and their
-- active groups chat:user:{uid}:groups:active, with an `applied` marker (kept a day) so
-- that running it again changes nothing. Then `finish` drops the record. The repairer
-- runs the `members` steps of an expired record again (with the members' state read
-- from the group's partition then) and `finish`.
--
-- ARGV[1] op: 'create', 'remove', 'join', 'decide', 'leave', 'status', 'members' or 'finish'
-- ARGV[2] change_id: the change's id
-- @op create, remove, join, decide, leave: the group's partition
-- KEYS[1] group: chat:group:{gid}
-- KEYS[2] members: chat:group:{gid}:members
-- KEYS[3] members_version: chat:group:{gid}:members:v
-- KEYS[4] stream: chat:stream:entities of the group's partition
-- KEYS[5] pending: chat:group:pending of the group's partition
-- KEYS[6] records: chat:group:pending:records of the group's partition
-- ARGV[3] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[4] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[5] me: the caller's uid
-- ARGV[6] deadline: when the repairer may finish the change (ms)
-- @op create: as group_update's, the members' status and blocks read in their partitions
-- KEYS[7] groups: chat:groups of the group's partition
-- ARGV[7] group_id: the new gid
-- ARGV[8] uuid: the group's uuid
-- ARGV[9] name: the group's name
-- ARGV[10] avatar: the group's avatar
-- ARGV[11] first_row_id: the first member row's id (the next ones follow)
-- ARGV[12...] member, member_status, member_blocks: for each member (me first), the uid,
-- its row's status and '1' when it blocks me, else '0'
-- @op remove: as group_update's, the avatars read in their partitions
-- ARGV[7] user: the uid removed
-- ARGV[8...] avatar_user_id, avatar: the uids whose user avatar the recomputation may need, each with it
-- @op join: as group_update's, the joiner's facts read in its partition
-- ARGV[7] joiner: the joiner's uid
-- ARGV[8] inviter: inviteuser_id
-- ARGV[9] row_id: the new row's id
-- ARGV[10] max_members: the members per group (--group-max-members)
-- ARGV[11] joiner_status: the joiner's row's status ('' when none)
-- ARGV[12] joiner_role: the joiner's role
-- ARGV[13] joiner_blocks: '1' when the joiner blocks me, else '0'
-- ARGV[14...] avatar_user_id, avatar: as remove's
-- @op decide: as group_update's
-- ARGV[7] user: the uid decided on
-- ARGV[8] decision: 'agree' or 'no'
-- ARGV[9...] avatar_user_id, avatar: as remove's
-- @op leave: as group_update's; every member's list changes in its own step
-- KEYS[7] history: chatlog:group_{gid}
-- @op status: an operator's status of the group (the audit is a step of its own)
-- KEYS[1] group: chat:group:{gid}
-- KEYS[2] members: chat:group:{gid}:members
-- KEYS[3] stream: chat:stream:entities of the group's partition
-- KEYS[4] pending: chat:group:pending of the group's partition
-- KEYS[5] records: chat:group:pending:records of the group's partition
-- ARGV[3] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[4] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[5] deadline: when the repairer may finish the change (ms)
-- ARGV[6] status: '1' (enable) or '0' (disable)
-- @op members: one partition of the members whose group lists change
-- KEYS[1] applied: chat:group:applied:{change id} of that partition
-- KEYS[2...] member_groups, member_active_groups: for each member, chat:user:{uid}:groups
-- and chat:user:{uid}:groups:active
-- ARGV[3] group_id: the gid
-- ARGV[4...] member, listed, active: for each member, the uid, '1' when the group is in its
-- list (else '0'), '1' when the group is active (else '0')
-- @op finish: the group's partition
-- KEYS[1] pending: chat:group:pending of the group's partition
-- KEYS[2] records: chat:group:pending:records of the group's partition
-- @end
--
-- Replies: the first steps {record JSON or '', then group_update's reply} (status: {record
-- or '', the row's new version}); group_update's errors, and 'missing' (status);
-- members, finish: 'OK'. Errors: 'bad_arguments'.
--@include group_change
local op, change_id = ARGV[1], ARGV[2]
if (change_id or '') == '' then
  return redis.error_reply('bad_arguments')
end
-- How long an `applied` marker is kept: far longer than a pending record waits.
local APPLIED_SECONDS = 86400

if op == 'members' then
  local gid = tonumber(ARGV[3])
  local count = (#ARGV - 3) / 3
  if not gid or count < 1 or count % 1 ~= 0 or #KEYS ~= 1 + 2 * count then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.status_reply('OK')
  end
  for i = 1, count do
    local listed, active = ARGV[2 + 3 * i] == '1', ARGV[3 + 3 * i] == '1'
    if listed then
      redis.call('ZADD', KEYS[2 * i], gid, gid)
    else
      redis.call('ZREM', KEYS[2 * i], gid)
    end
    if listed and active then
      redis.call('ZADD', KEYS[1 + 2 * i], gid, gid)
    else
      redis.call('ZREM', KEYS[1 + 2 * i], gid)
    end
  end
  redis.call('SET', KEYS[1], 'ok', 'EX', APPLIED_SECONDS)
  return redis.status_reply('OK')
end

if op == 'finish' then
  if #KEYS ~= 2 then
    return redis.error_reply('bad_arguments')
  end
  redis.call('ZREM', KEYS[1], change_id)
  redis.call('HDEL', KEYS[2], change_id)
  return redis.status_reply('OK')
end

local cap, now = ARGV[3], ARGV[4]
if not tonumber(cap) or (now or '') == '' then
  return redis.error_reply('bad_arguments')
end

-- The members' list changes this step leaves for their partitions' steps.
local changes = {}
local function record(gid, active, pending, records, deadline)
  if #changes == 0 then
    return ''
  end
  local parts = {}
  for i, change in ipairs(changes) do
    parts[i] = string.format('[%d,%d,%d]', tonumber(change[1]), change[2] and 1 or 0, active and 1 or 0)
  end
  local json = string.format('{"group":%d,"changes":[%s]}', gid, table.concat(parts, ','))
  redis.call('ZADD', pending, deadline, change_id)
  redis.call('HSET', records, change_id, json)
  return json
end

if op == 'status' then
  local deadline, status = tonumber(ARGV[5]), ARGV[6]
  if #KEYS ~= 5 or not deadline or (status ~= '0' and status ~= '1') then
    return redis.error_reply('bad_arguments')
  end
  local row = group_set_status({ group = KEYS[1], stream = KEYS[3], cap = cap, now = now }, status)
  if not row then
    return redis.error_reply('missing')
  end
  local flat = redis.call('HGETALL', KEYS[2])
  local uids = {}
  for i = 2, #flat, 2 do
    local member = cjson.decode(flat[i])
    if member.status ~= 2 then uids[#uids + 1] = member.user_id end
  end
  table.sort(uids)
  for _, uid in ipairs(uids) do changes[#changes + 1] = { uid, true } end
  return { record(row.id, status == '1', KEYS[4], KEYS[5], deadline), row._v }
end

local me, deadline = ARGV[5], tonumber(ARGV[6])
if not tonumber(me) or not deadline then
  return redis.error_reply('bad_arguments')
end

-- Only the group's keys are here: the users' facts were read in their partitions before
-- (passed in ARGV), their group lists change in the steps after this one.
local g = { group = KEYS[1], members = KEYS[2], version = KEYS[3], stream = KEYS[4], cap = cap, now = now, me = me }
local statuses, roles, blocking, avatars = {}, {}, {}, {}
g.status = function(uid) return statuses[uid] end
g.user = function(uid) return statuses[uid], roles[uid] end
g.blocks_me = function(uid) return blocking[uid] == '1' end
g.avatar = function(uid)
  local avatar = avatars[uid]
  return avatar and { avatar = avatar } or nil
end
g.reaches = function() return true end
g.listed = function(uid) changes[#changes + 1] = { uid, true } end
g.unlisted = function(uid) changes[#changes + 1] = { uid, false } end

-- The avatars ARGV[first…] (uid, avatar pairs) by uid.
local function read_avatars(first)
  if (#ARGV - first + 1) % 2 ~= 0 then
    return false
  end
  for i = first, #ARGV, 2 do
    avatars[ARGV[i]] = ARGV[i + 1]
  end
  return true
end

-- The step's reply: the record first.
local function step_reply(result, group_id, active)
  if type(result) == 'table' and result.err then
    return result
  end
  table.insert(result, 1, record(group_id, active, KEYS[5], KEYS[6], deadline))
  return result
end

if op == 'create' then
  local gid, first_row = tonumber(ARGV[7]), tonumber(ARGV[11])
  local count = (#ARGV - 11) / 3
  if #KEYS ~= 7 or not gid or not first_row or count < 1 or count % 1 ~= 0 or ARGV[12] ~= me then
    return redis.error_reply('bad_arguments')
  end
  local members = {}
  for i = 1, count do
    local uid = ARGV[9 + 3 * i]
    members[i] = uid
    statuses[uid], blocking[uid] = ARGV[10 + 3 * i], ARGV[11 + 3 * i]
  end
  return step_reply(group_create(g, KEYS[7], gid, ARGV[8], ARGV[9], ARGV[10], first_row, members), gid, true)
end

if #KEYS ~= (op == 'leave' and 7 or 6) then
  return redis.error_reply('bad_arguments')
end
local group = group_read(g)
local gid = group and group.id or 0
local active = group and group.status == 1

if op == 'remove' then
  local uid = ARGV[7]
  if not tonumber(uid) or not read_avatars(8) then
    return redis.error_reply('bad_arguments')
  end
  return step_reply(group_remove(g, group, uid), gid, active)
end

if op == 'join' then
  local joiner, inviter, row_id, max_members = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
  if not tonumber(joiner) or not inviter or not row_id or not max_members or ARGV[13] == nil or not read_avatars(14) then
    return redis.error_reply('bad_arguments')
  end
  statuses[joiner], roles[joiner], blocking[joiner] = ARGV[11], ARGV[12], ARGV[13]
  return step_reply(group_join(g, group, joiner, inviter, row_id, max_members), gid, active)
end

if op == 'decide' then
  local uid, decision = ARGV[7], ARGV[8]
  if not tonumber(uid) or (decision ~= 'agree' and decision ~= 'no') or not read_avatars(9) then
    return redis.error_reply('bad_arguments')
  end
  return step_reply(group_decide(g, group, uid, decision == 'agree'), gid, active)
end

if op == 'leave' then
  return step_reply(group_leave(g, group, KEYS[7]), gid, false)
end

return redis.error_reply('bad_arguments')
