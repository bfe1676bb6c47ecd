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
--@include group_change
local op, cap, now, me = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not tonumber(cap) or (now or '') == '' or not tonumber(me) then
  return redis.error_reply('bad_arguments')
end

-- The keys KEYS[first_key…] by the uids ARGV[first_argument…] (one each, in order).
local function keys_by_uid(first_key, first_argument)
  local keys = {}
  for i = first_key, #KEYS do
    local uid = ARGV[first_argument + i - first_key]
    if uid then keys[uid] = KEYS[i] end
  end
  return keys
end

-- Every key is here: the users' facts are read from their keys, their group lists
-- changed in this run.
local g = { group = KEYS[1], members = KEYS[2], version = KEYS[3], stream = KEYS[4], cap = cap, now = now, me = me }
local user_keys, block_keys, list_keys = {}, {}, {}
g.status = function(uid) return redis.call('HGET', user_keys[uid], 'status') end
g.user = function(uid)
  local user = redis.call('HMGET', user_keys[uid], 'status', 'role')
  return user[1], user[2]
end
g.blocks_me = function(uid) return redis.call('HEXISTS', block_keys[uid], me) == 1 end
local avatar_keys = {}
g.avatar = function(uid)
  local key = avatar_keys[uid]
  return key and { key = key } or nil
end
g.reaches = function(uid) return list_keys[uid] ~= nil end
g.listed = function(uid, gid) redis.call('ZADD', list_keys[uid], gid, gid) end
g.unlisted = function(uid, gid) redis.call('ZREM', list_keys[uid], gid) end

if op == 'create' then
  local gid, first_row = tonumber(ARGV[5]), tonumber(ARGV[9])
  local count = #ARGV - 9
  if not gid or not first_row or count < 1 or #KEYS ~= 5 + 3 * count or ARGV[10] ~= me then
    return redis.error_reply('bad_arguments')
  end
  local members = {}
  for i = 1, count do
    local uid = ARGV[9 + i]
    members[i] = uid
    user_keys[uid], list_keys[uid], block_keys[uid] = KEYS[3 + 3 * i], KEYS[4 + 3 * i], KEYS[5 + 3 * i]
  end
  return group_create(g, KEYS[5], gid, ARGV[6], ARGV[7], ARGV[8], first_row, members)
end

local group = group_read(g)

if op == 'rename' or op == 'remark' or op == 'policy' then
  local value = ARGV[5]
  if (value or '') == '' or #KEYS ~= 4 or (op == 'policy' and not tonumber(value)) then
    return redis.error_reply('bad_arguments')
  end
  return group_set(g, group, op, value)
end

if op == 'nickname' then
  if (ARGV[5] or '') == '' or #KEYS ~= 4 then
    return redis.error_reply('bad_arguments')
  end
  return group_nickname(g, ARGV[5])
end

if op == 'remove' then
  local uid = ARGV[5]
  if not tonumber(uid) or #KEYS < 5 then
    return redis.error_reply('bad_arguments')
  end
  list_keys[uid] = KEYS[5]
  avatar_keys = keys_by_uid(6, 6)
  return group_remove(g, group, uid)
end

if op == 'join' then
  local joiner, inviter, row_id, max_members = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  if not tonumber(joiner) or not inviter or not row_id or not max_members or #KEYS < 7 then
    return redis.error_reply('bad_arguments')
  end
  user_keys[joiner], list_keys[joiner], block_keys[joiner] = KEYS[5], KEYS[6], KEYS[7]
  avatar_keys = keys_by_uid(8, 9)
  return group_join(g, group, joiner, inviter, row_id, max_members)
end

if op == 'decide' then
  local uid, decision = ARGV[5], ARGV[6]
  if not tonumber(uid) or (decision ~= 'agree' and decision ~= 'no') or #KEYS < 5 then
    return redis.error_reply('bad_arguments')
  end
  list_keys[uid] = KEYS[5]
  avatar_keys = keys_by_uid(6, 7)
  return group_decide(g, group, uid, decision == 'agree')
end

if op == 'leave' then
  if #KEYS < 6 then
    return redis.error_reply('bad_arguments')
  end
  list_keys = keys_by_uid(6, 5)
  return group_leave(g, group, KEYS[5])
end

return redis.error_reply('bad_arguments')
