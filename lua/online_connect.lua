-- A WebSocket connection becomes its user's delivery target (docs/api.md, *Connecting*
-- and *Single-device login*), in one atomic step, so a logout, an operator's ban or a
-- competing connection can never slip in between the checks and the registration:
--  1. the token must still be the account's current one  -> error 'token'
--  2. the account must exist -> 'missing', and be active -> 'disabled'
--  3. online_{id} := target and, beside it, the id of the token it connected with; the
--     target's process is scored alive in chat:nodes (a target never names a process
--     that deliveries would take for dead, even before its first heartbeat)
--  4. the previous target is returned for a kick when it connected with another token
--     (a new login); with the same token (a reconnect race) it is left alone
--  5. the user's live sockets (chat:sockets:{id}, scored by expiry) stay within
--     socket_limit, the one about to be kicked not counted -> error 'sockets'
--  6. the profile field last changed (user:modify:{id}, written by updateUserinfo for
--     60 s) is returned, so the avatar notice costs no round trip of its own; any value
--     but 'avatar' is deleted here (the old server's rule; 'avatar' is left to expire, see
--     docs/api.md *Avatar notice*)
--  7. what the connection is sent next is read here too, so that opening one is one round
--     trip (docs/benchmarks.md, *Gateway*): the account's row (the guidance messages are
--     built from it) and the two facts that choose among them — an active,
--     non-blacklisted friend row, and an active group among the first `groups_checked`
--  8. the head of the offline queue, read as offline_read.lua reads it (nothing removed):
--     the caller writes it, removes what was written (offline_ack.lua) and reads on, all
--     before anything routed to the connection live
-- KEYS[1] token: chat_user_{id}
-- KEYS[2] user: chat:user:{id}
-- KEYS[3] online: online_{id}
-- KEYS[4] online_token: chat:online:token:{id}
-- KEYS[5] nodes: chat:nodes (the user's partition's copy)
-- KEYS[6] sockets: chat:sockets:{id}
-- KEYS[7] modified: user:modify:{id}
-- KEYS[8] friends: chat:friends:{id}
-- KEYS[9] groups: chat:user:{id}:groups on one Redis; on a tagged layout the user's active
-- groups, chat:user:{id}:groups:active (kept by the group scripts), with group_prefix ''
-- KEYS[10] queue: chat_getmessage_{id}
-- KEYS[11] offline_bodies: chat:offline:bodies (the user's partition's copy)
-- ARGV[1] token: the token the connection presented
-- ARGV[2] target: '{node}:{conn}'
-- ARGV[3] token_id: the id of that token (its signature, the token's last segment)
-- ARGV[4] ttl: how long the registration lives without a refresh (ms)
-- ARGV[5] node: the target's node id
-- ARGV[6] socket_limit: live sockets allowed per user
-- ARGV[7] group_prefix: 'chat:group:' (a group's row, by id), or '' when `groups` holds
-- the active groups only (a tagged layout: no group's key is read)
-- ARGV[8] groups_checked: the user's groups looked at for an active one
-- ARGV[9] flush_count: at most this many queued entries read
-- ARGV[10] flush_bytes: at most about this many bytes of them (the first whatever its size)
-- Returns {previous target to kick or '', the field last changed ('avatar') or '', the
-- account's row as a flat field/value array, 1 or 0: an active friend, 1 or 0: an active
-- group, the queue's head as offline_read.lua returns it}. Errors: 'token', 'missing',
-- 'disabled', 'sockets'.
--@include clock
--@include offline_queue
local ttl = tonumber(ARGV[4])
local socketLimit = tonumber(ARGV[6])
local groupsChecked = tonumber(ARGV[8])
local flushCount, flushBytes = tonumber(ARGV[9]), tonumber(ARGV[10])
if ARGV[1] == '' or ARGV[2] == '' or ARGV[3] == '' or ARGV[5] == '' or not ttl or ttl <= 0 or not socketLimit
  or socketLimit <= 0 or not groupsChecked or groupsChecked <= 0 or not flushCount or flushCount <= 0
  or not flushBytes or flushBytes <= 0 then
  return redis.error_reply('ERR bad_arguments')
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('ERR token')
end
local row = redis.call('HGETALL', KEYS[2])
local status
for i = 1, #row, 2 do
  if row[i] == 'status' then status = row[i + 1] end
end
if not status then
  return redis.error_reply('ERR missing')
end
if status ~= '1' then
  return redis.error_reply('ERR disabled')
end

local previous = redis.call('GET', KEYS[3])
local previousToken = redis.call('GET', KEYS[4])
local kick = ''
if previous and previous ~= ARGV[2] and previousToken ~= ARGV[3] then
  kick = previous
end

local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
if not redis.call('ZSCORE', KEYS[6], ARGV[2]) then
  local live = redis.call('ZCARD', KEYS[6])
  if kick ~= '' and redis.call('ZSCORE', KEYS[6], kick) then
    live = live - 1
  end
  if live >= socketLimit then
    return redis.error_reply('ERR sockets')
  end
end
redis.call('ZADD', KEYS[6], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[6], ttl)

redis.call('SET', KEYS[3], ARGV[2], 'PX', ttl)
redis.call('SET', KEYS[4], ARGV[3], 'PX', ttl)
redis.call('ZADD', KEYS[5], now, ARGV[5])

local modified = redis.call('GET', KEYS[7])
if modified and modified ~= 'avatar' then
  redis.call('DEL', KEYS[7])
end

-- The guidance's facts. A friend row counts when its status is 1 and it is not
-- blacklisted (isblack absent, null or 0).
local activeFriend = 0
for _, text in ipairs(redis.call('HVALS', KEYS[8])) do
  local ok, friend = pcall(cjson.decode, text)
  if ok and type(friend) == 'table' and tonumber(friend.status) == 1 and (tonumber(friend.isblack) or 0) == 0 then
    activeFriend = 1
    break
  end
end
local activeGroup = 0
if ARGV[7] == '' then
  activeGroup = redis.call('ZCARD', KEYS[9]) > 0 and 1 or 0
else
  for _, id in ipairs(redis.call('ZRANGE', KEYS[9], 0, groupsChecked - 1)) do
    if string.match(id, '^%d+$') and redis.call('HGET', ARGV[7] .. id, 'status') == '1' then
      activeGroup = 1
      break
    end
  end
end
return {kick, modified == 'avatar' and 'avatar' or '', row, activeFriend, activeGroup,
  offline_read_head(KEYS[10], KEYS[11], flushCount, flushBytes)}
