-- The sender's step of a single-chat send between two partitions (docs/architecture.md,
-- *Redis Cluster: partitions and steps*; message_send_single.lua is the one-run send
-- within a partition): the client id, my token, account and send rate are checked; my
-- facts for the message (my names, avatar, uuid, my remark for them) are read; the one
-- message before a friendship is reserved (taken from chat:quota:{me} if still free:
-- whether it counts is the recipient's step's decision, and the last step gives it back
-- if not); a client id is marked as under way ('?' .. id); and a `pending` record keeps
-- all of it, with the deadline after which the repairer finishes the send.
-- KEYS[1] token: chat_user_{me}
-- KEYS[2] sender: chat:user:{me}
-- KEYS[3] sender_friends: chat:friends:{me}
-- KEYS[4] quota: chat:quota:{me}
-- KEYS[5] sender_history: chatlog:chatlog_{me}_single_{to}
-- KEYS[6] sent: chat:sent:{me}:{client id} (any key of the partition when there is none)
-- KEYS[7] rate: chat:rate:{me}
-- KEYS[8] pending: chat:pending:single (the partition's: message id → deadline)
-- KEYS[9] pending_send: chat:pending:single:{id} (the send's record)
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
-- ARGV[11] send_rate: sends per second per sender (0: no limit)
-- ARGV[12] send_burst: sends at once beyond the rate
-- ARGV[13] auto_reply: 'autoreply' for an automatic Q&A answer, else ''
-- ARGV[14] repair_after: how long (ms) the send may stay pending before the repairer finishes it
-- Returns {'pending', created, reserved, role, nickname, username, avatar, uuid, remark}
-- (the facts the recipient's step takes), or {'duplicate', '', message, 0} for a retried
-- client id. Errors: 'pending' (that client id's send is under way), 'token', 'sender', 'rate'.
--@include single_send
local historyCap, repairAfter = tonumber(ARGV[10]), tonumber(ARGV[14])
local sendRate, sendBurst = tonumber(ARGV[11]), tonumber(ARGV[12])
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not historyCap or historyCap <= 0 or not sendRate
  or not sendBurst or sendBurst < 1 or not repairAfter then
  return redis.error_reply('ERR bad_arguments')
end
local autoReply = ARGV[13] == 'autoreply'

if ARGV[8] ~= '' then
  -- Between partitions each history keeps its own index.
  local duplicate = single_duplicate(KEYS[6], KEYS[5], historyCap, nil)
  if duplicate then return duplicate end
end
local now = now_ms()
local me, role = single_sender_checks(KEYS[1], ARGV[7], KEYS[2], KEYS[7], sendRate, sendBurst, autoReply, now)
if not me then return role end
local remark = single_my_remark(KEYS[3], ARGV[3])
local reserved = ''
if not autoReply and (tonumber(redis.call('HGET', KEYS[4], ARGV[3])) or 0) < 1 then
  redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
  reserved = '1'
end
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[6], '?' .. ARGV[1], 'EX', ARGV[9])
end
local created = tostring(now)
redis.call('HSET', KEYS[9], 'me', ARGV[2], 'to', ARGV[3], 'type', ARGV[4], 'data', ARGV[5], 'options', ARGV[6],
  'created', created, 'auto_reply', ARGV[13], 'reserved', reserved, 'client_id', ARGV[8], 'role', role,
  'nickname', me[3] or '', 'username', me[4] or '', 'avatar', me[5] or '', 'uuid', me[6] or '', 'remark', remark)
redis.call('ZADD', KEYS[8], tostring(now + repairAfter), ARGV[1])
return {'pending', created, reserved, role, me[3] or '', me[4] or '', me[5] or '', me[6] or '', remark}
