-- The sender's step of a group send on a partitioned layout (docs/architecture.md,
-- *Redis Cluster: partitions and steps*; message_send_group.lua is the one-run send on
-- one Redis): the client id, my token, account and send rate are checked and my facts
-- for the message (nickname, username, avatar, uuid) read; a client id is marked as under
-- way ('?' .. id); and a `pending` record keeps the send, with the deadline after which
-- the repairer finishes it (the group's step, each member partition's, the last step).
-- KEYS[1] token: chat_user_{me}
-- KEYS[2] sender: chat:user:{me}
-- KEYS[3] sent: chat:sent:{me}:{client id} (any key of the partition when there is none)
-- KEYS[4] rate: chat:rate:{me}
-- KEYS[5] pending: chat:pending:group (the partition's: message id → deadline)
-- KEYS[6] pending_send: chat:pending:group:{id} (the send's record)
-- ARGV[1] id: the new message id
-- ARGV[2] me: my id
-- ARGV[3] group: the group id
-- ARGV[4] type: the message type
-- ARGV[5] data: the message data (JSON text)
-- ARGV[6] options: the message options (JSON text)
-- ARGV[7] token: my token, or '' when the caller already checked it
-- ARGV[8] client_id: the client id, or ''
-- ARGV[9] client_id_window: how long a client id is remembered (s)
-- ARGV[10] send_rate: sends per second per sender (0: no limit)
-- ARGV[11] send_burst: sends at once beyond the rate
-- ARGV[12] repair_after: how long (ms) the send may stay pending before the repairer finishes it
-- Returns {'pending', created, nickname, username, avatar, uuid} (the facts the later
-- steps take), {'duplicate', id} for a retried client id whose send was accepted (the
-- message is in the group's history), or {'resume', id} for one whose send is still
-- under way (its record has what the later steps need). Errors: 'token', 'sender', 'rate'.
--@include group_send
local repairAfter = tonumber(ARGV[12])
local sendRate, sendBurst = tonumber(ARGV[10]), tonumber(ARGV[11])
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not sendRate or not sendBurst or sendBurst < 1
  or not repairAfter then
  return redis.error_reply('ERR bad_arguments')
end

if ARGV[8] ~= '' then
  local earlier = redis.call('GET', KEYS[3])
  if earlier then
    if string.byte(earlier, 1) == 63 then -- '?': under way
      return {'resume', string.sub(earlier, 2)}
    end
    return {'duplicate', earlier}
  end
end
local me, refusal = group_sender_checks(KEYS[1], ARGV[7], KEYS[2])
if not me then return refusal end
local now = now_ms()
if not take_send_token(KEYS[4], sendRate, sendBurst, now) then
  return redis.error_reply('rate')
end
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[3], '?' .. ARGV[1], 'EX', ARGV[9])
end
local created = tostring(now)
redis.call('HSET', KEYS[6], 'me', ARGV[2], 'group', ARGV[3], 'type', ARGV[4], 'data', ARGV[5], 'options', ARGV[6],
  'created', created, 'client_id', ARGV[8], 'nickname', me[2] or '', 'username', me[3] or '', 'avatar', me[4] or '',
  'uuid', me[5] or '')
redis.call('ZADD', KEYS[5], tostring(now + repairAfter), ARGV[1])
return {'pending', created, me[2] or '', me[3] or '', me[4] or '', me[5] or ''}
