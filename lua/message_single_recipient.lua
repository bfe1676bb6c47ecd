-- The recipient's step of a single-chat send between two partitions (after
-- message_single_sender.lua, in the recipient's partition): their account, their block,
-- their friendship row of me, their chatset and the pre-friendship quota decide (the
-- quota with what the sender's step reserved); an accepted message goes into their
-- history (with its own index), the partition's shard of the messages stream, and to
-- their delivery target or offline queue (lib/routing.lua). The outcome is kept in an
-- `applied` marker by message id: run again (a retry, the repairer), the step changes
-- nothing and answers the same (an accepted message as found in their history).
-- KEYS[1] applied: chat:applied:single:{id}
-- KEYS[2] recipient: chat:user:{to}
-- KEYS[3] recipient_friends: chat:friends:{to}
-- KEYS[4] recipient_blocks: chat:blocks:{to}
-- KEYS[5] recipient_history: chatlog:chatlog_{to}_single_{me}
-- KEYS[6] stream: chat:stream:messages (the partition's shard)
-- KEYS[7] online: online_{to}
-- KEYS[8] queue: chat_getmessage_{to}
-- KEYS[9] nodes: chat:nodes (the partition's)
-- KEYS[10] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[11] offline_bodies: chat:offline:bodies (the partition's)
-- KEYS[12] offline_bytes: chat:offline:bytes (the partition's)
-- ARGV[1] id: the message id
-- ARGV[2] me: the sender's id
-- ARGV[3] to: the recipient's id
-- ARGV[4] type: the message type
-- ARGV[5] data: the message data (JSON text)
-- ARGV[6] options: the message options (JSON text)
-- ARGV[7] created: the message's create_time (ms, the sender's step's clock)
-- ARGV[8] auto_reply: 'autoreply' for an automatic Q&A answer, else ''
-- ARGV[9] reserved: '1' when the sender's step reserved the pre-friendship message
-- ARGV[10] role: the sender's role ('user' | 'visitor')
-- ARGV[11] nickname: the sender's nickname
-- ARGV[12] username: the sender's username
-- ARGV[13] avatar: the sender's avatar
-- ARGV[14] uuid: the sender's uuid
-- ARGV[15] remark: the sender's remark for the recipient, or ''
-- ARGV[16] history_cap: the history lists' cap
-- ARGV[17] stream_cap: the stream's cap (MAXLEN ~)
-- ARGV[18] node: the caller's node id
-- ARGV[19] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[20] queue_cap: the offline queue's cap
-- ARGV[21] queue_bytes: the offline queue's cap in bytes
-- ARGV[22] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[23] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- ARGV[24] applied_ttl: how long (s) the marker is kept
-- Returns {route, argument, message JSON, history entries trimmed, last sequence (0 unless
-- 'local'), quota used ('1' | '')}: route as message_send_single.lua's, or 'applied' when
-- the step had run already (argument ''). Errors: the recipient's refusals, as
-- message_send_single.lua's ('recipient', 'blacklisted user', …, 'quota visitor').
--@include single_send
local historyCap, streamCap = tonumber(ARGV[16]), tonumber(ARGV[17])
local deadAfter, ttl = tonumber(ARGV[19]), tonumber(ARGV[24])
local queue = offline_settings(ARGV[20], ARGV[21], KEYS[11], KEYS[12])
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not tonumber(ARGV[7]) or not historyCap or historyCap <= 0
  or not streamCap or not deadAfter or not queue or ARGV[22] == '' or not ttl or ttl <= 0 then
  return redis.error_reply('ERR bad_arguments')
end
local me = {'1', ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14]}

local applied = redis.call('GET', KEYS[1])
if not applied then
  -- The marker expired (a repair long after): the message in their history's index is
  -- the proof it was applied.
  if redis.call('ZSCORE', KEYS[5] .. ':ids', ARGV[1]) then applied = 'accepted' end
end
if applied then
  local outcome, detail = string.match(applied, '^(%S+) ?(.*)$')
  if outcome == 'refused' then
    return redis.error_reply(detail)
  end
  local _, entry = find_message(KEYS[5], ARGV[1], historyCap, nil)
  if not entry then
    -- trimmed from their history since: built again from the rows as they are now
    local to = redis.call('HMGET', KEYS[2], 'status', 'nickname', 'username', 'avatar', 'userset')
    local theirRowOfMe = single_row(redis.call('HGET', KEYS[3], ARGV[2]))
    entry = single_message(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], me, to, theirRowOfMe, ARGV[15])
  end
  return {'applied', '', entry, 0, 0, detail}
end

local function refuse(reply)
  redis.call('SET', KEYS[1], 'refused ' .. reply.err, 'EX', ttl)
  return reply
end
local to, theirRowOfMe, quota = single_recipient_checks(KEYS[2], KEYS[3], KEYS[4], ARGV[2], ARGV[10],
  ARGV[8] == 'autoreply')
if not to then return refuse(theirRowOfMe) end
if quota and ARGV[9] ~= '1' then
  return refuse(redis.error_reply('quota ' .. ARGV[10]))
end

local message, fromName, toName = single_message(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], me, to,
  theirRowOfMe, ARGV[15])
local trimmed = history_append(KEYS[5], message, ARGV[1], historyCap, true)
single_event(KEYS[6], ARGV[17], ARGV[1], ARGV[2], ARGV[3], ARGV[4], fromName, me, toName, to, ARGV[5], ARGV[6], ARGV[7])
local used = quota and '1' or ''
redis.call('SET', KEYS[1], 'accepted ' .. used, 'EX', ttl)
local route, argument, after = route_one(ARGV[3], message, KEYS[7], KEYS[8], KEYS[9], KEYS[10], ARGV[18], deadAfter,
  queue, ARGV[22], nil, nil, ARGV[23])
return {route, argument, message, trimmed, after or 0, used}
