-- Sends one single-chat message (docs/api.md, *Single-chat rules*), all in one atomic
-- step: checks the sender's token and account, the recipient, their blacklist and the
-- recipient's chatset with the per-pair quota; builds the message object with the
-- names from remarks; appends it to both owners' history lists (capped; the lower uid's
-- with the pair's id index: lib/messages.lua) and to chat:stream:messages; then routes
-- it (lib/routing.lua) or queues it offline. The steps are lib/single_send.lua's, which
-- the three step scripts run one per partition when the users' partitions differ; here
-- both users are in one partition (always on one Redis) and it is one script run.
-- A client id makes the send idempotent: a retried send within the window answers the
-- message the first one was accepted as (found by the id `sent` keeps, through my
-- history's index), and nothing is written or delivered again.
-- KEYS[1] token: chat_user_{me}
-- KEYS[2] sender: chat:user:{me}
-- KEYS[3] recipient: chat:user:{to}
-- KEYS[4] recipient_friends: chat:friends:{to}
-- KEYS[5] sender_friends: chat:friends:{me}
-- KEYS[6] quota: chat:quota:{me}
-- KEYS[7] sender_history: chatlog:chatlog_{me}_single_{to}
-- KEYS[8] recipient_history: chatlog:chatlog_{to}_single_{me}
-- KEYS[9] stream: chat:stream:messages
-- KEYS[10] online: online_{to}
-- KEYS[11] queue: chat_getmessage_{to}
-- KEYS[12] nodes: chat:nodes
-- KEYS[13] sent: chat:sent:{me}:{client id} (any key when there is none)
-- KEYS[14] deliveries: chat:nodes:deliveries
-- KEYS[15] rate: chat:rate:{me}
-- KEYS[16] offline_bodies: chat:offline:bodies
-- KEYS[17] offline_bytes: chat:offline:bytes
-- KEYS[18] recipient_blocks: chat:blocks:{to} (the recipient's blocks: docs/api.md, *Blocks*)
-- ARGV[1] id: the new message id
-- ARGV[2] me: my id
-- ARGV[3] to: the recipient's id
-- ARGV[4] type: the message type
-- ARGV[5] data: the message data (JSON text)
-- ARGV[6] options: the message options (JSON text)
-- ARGV[7] token: my token, or '' when the caller already checked it
-- ARGV[8] client_id: the client id, or ''
-- ARGV[9] client_id_window: how long a client id is remembered (s)
-- ARGV[10] history_cap: the history lists' cap
-- ARGV[11] stream_cap: the stream's cap (MAXLEN ~)
-- ARGV[12] node: the caller's node id
-- ARGV[13] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[14] queue_cap: the offline queue's cap
-- ARGV[15] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[16] send_rate: sends per second per sender (0: no limit)
-- ARGV[17] send_burst: sends at once beyond the rate
-- ARGV[18] queue_bytes: the offline queue's cap in bytes
-- ARGV[19] auto_reply: 'autoreply' for the recipient's automatic Q&A answer (the asker
-- asked for it: their chatset, the pre-friendship quota and the owner's send rate are not
-- checked nor counted), else ''
-- ARGV[20] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- Returns {route, argument, message JSON, history entries trimmed}: route 'local' (the
-- caller pushes to connection `argument`), 'routed' (sent to node `argument`'s stream),
-- 'queued' (`argument` = entries the queue cap dropped) or 'duplicate'; 'local' adds the
-- last sequence published to the caller's process. Errors: 'token', 'sender',
-- 'pending' (the client id's send is under way between partitions), 'rate' (over the
-- send rate: nothing written), 'recipient', 'blacklisted', 'blocked', 'friends_only', 'quota'; the last four
-- followed by ' user' or ' visitor' (the sender's stored role picks the text).
--@include single_send
local historyCap, streamCap = tonumber(ARGV[10]), tonumber(ARGV[11])
local deadAfter = tonumber(ARGV[13])
local sendRate, sendBurst = tonumber(ARGV[16]), tonumber(ARGV[17])
local queue = offline_settings(ARGV[14], ARGV[18], KEYS[16], KEYS[17])
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not historyCap or historyCap <= 0 or not streamCap
  or not deadAfter or not queue or ARGV[15] == '' or not sendRate or not sendBurst or sendBurst < 1
  or ARGV[20] == nil then
  return redis.error_reply('ERR bad_arguments')
end
local autoReply = ARGV[19] == 'autoreply'
local indexed = pair_indexed(ARGV[2], ARGV[3], KEYS[7], KEYS[8])

if ARGV[8] ~= '' then
  -- The record holds the accepted message's id (an id, not the message: at thousands of
  -- sends a second over the window, whole messages would cost Redis gigabytes); the
  -- message itself is found in my history, as revoke does. Gone from there (trimmed, or
  -- the retry names another recipient): the id alone answers.
  local duplicate = single_duplicate(KEYS[13], KEYS[7], historyCap, indexed)
  if duplicate then return duplicate end
end
local now = now_ms()
local me, role = single_sender_checks(KEYS[1], ARGV[7], KEYS[2], KEYS[15], sendRate, sendBurst, autoReply, now)
if not me then return role end
local to, theirRowOfMe, quota = single_recipient_checks(KEYS[3], KEYS[4], KEYS[18], ARGV[2], role, autoReply)
if not to then return theirRowOfMe end
if quota then
  if (tonumber(redis.call('HGET', KEYS[6], ARGV[3])) or 0) >= 1 then
    return redis.error_reply('quota ' .. role)
  end
  redis.call('HINCRBY', KEYS[6], ARGV[3], 1)
end

-- Accepted.
local created = tostring(now)
local message, fromName, toName = single_message(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], created, me, to,
  theirRowOfMe, single_my_remark(KEYS[5], ARGV[3]))

local trimmed = 0
for _, history in ipairs({KEYS[7], KEYS[8]}) do
  trimmed = trimmed + history_append(history, message, ARGV[1], historyCap, history == indexed)
end
single_event(KEYS[9], ARGV[11], ARGV[1], ARGV[2], ARGV[3], ARGV[4], fromName, me, toName, to, ARGV[5], ARGV[6], created)
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[13], ARGV[1], 'EX', ARGV[9])
end

local route, argument, after = route_one(ARGV[3], message, KEYS[10], KEYS[11], KEYS[12], KEYS[14], ARGV[12],
  deadAfter, queue, ARGV[15], nil, now, ARGV[20])
if route == 'local' then
  return {route, argument, message, trimmed, after}
end
return {route, argument, message, trimmed}
