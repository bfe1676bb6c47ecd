-- The last step of a single-chat send between two partitions (after
-- message_single_recipient.lua, in the sender's partition): accepted, the message goes
-- into my history (with its own index) and the client id record names it; refused, the
-- reserved pre-friendship message is given back and the client id forgotten. Accepted
-- without the quota counting (a friend, a chatset without the limit), the reservation is
-- given back too. The `pending` record goes: run again (a retry, the repairer), the step
-- finds none and changes nothing.
-- KEYS[1] sender_history: chatlog:chatlog_{me}_single_{to}
-- KEYS[2] sent: chat:sent:{me}:{client id} (any key of the partition when there is none)
-- KEYS[3] quota: chat:quota:{me}
-- KEYS[4] pending: chat:pending:single (the partition's)
-- KEYS[5] pending_send: chat:pending:single:{id}
-- ARGV[1] id: the message id
-- ARGV[2] outcome: 'accepted' or 'refused'
-- ARGV[3] message: the message object (JSON text) when accepted, else ''
-- ARGV[4] quota_used: '1' when the recipient's step counted the pre-friendship message
-- ARGV[5] client_id_window: how long a client id is remembered (s)
-- ARGV[6] history_cap: the history lists' cap
-- Returns {'finished' | 'done' (finished before), history entries trimmed}.
--@include messages
local historyCap = tonumber(ARGV[6])
if ARGV[1] == '' or (ARGV[2] ~= 'accepted' and ARGV[2] ~= 'refused') or (ARGV[2] == 'accepted' and ARGV[3] == '')
  or not historyCap or historyCap <= 0 then
  return redis.error_reply('ERR bad_arguments')
end
local record = redis.call('HMGET', KEYS[5], 'to', 'reserved', 'client_id')
if not record[1] then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return {'done', 0}
end
local to, reserved, clientID = record[1], record[2] == '1', record[3] ~= ''
local trimmed = 0
if ARGV[2] == 'accepted' then
  trimmed = history_append(KEYS[1], ARGV[3], ARGV[1], historyCap, true)
  if clientID then
    redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
  end
elseif clientID and redis.call('GET', KEYS[2]) == '?' .. ARGV[1] then
  redis.call('DEL', KEYS[2])
end
if reserved and (ARGV[2] == 'refused' or ARGV[4] ~= '1') then
  if redis.call('HINCRBY', KEYS[3], to, -1) <= 0 then
    redis.call('HDEL', KEYS[3], to)
  end
end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[4], ARGV[1])
return {'finished', trimmed}
