-- The last step of a group send on a partitioned layout (after the group's and the
-- member partitions' steps, in the sender's partition): accepted, the client id record
-- names the message; refused, the client id is forgotten. The `pending` record goes: run
-- again (a retry, the repairer), the step finds none and changes nothing.
-- KEYS[1] sent: chat:sent:{me}:{client id} (any key of the partition when there is none)
-- KEYS[2] pending: chat:pending:group (the partition's)
-- KEYS[3] pending_send: chat:pending:group:{id}
-- ARGV[1] id: the message id
-- ARGV[2] outcome: 'accepted' or 'refused'
-- ARGV[3] client_id_window: how long a client id is remembered (s)
-- Returns 'finished' or 'done' (finished before).
if ARGV[1] == '' or (ARGV[2] ~= 'accepted' and ARGV[2] ~= 'refused') or not tonumber(ARGV[3]) then
  return redis.error_reply('ERR bad_arguments')
end
local clientID = redis.call('HGET', KEYS[3], 'client_id')
redis.call('ZREM', KEYS[2], ARGV[1])
if not clientID then
  return 'done'
end
if clientID ~= '' then
  if ARGV[2] == 'accepted' then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
  elseif redis.call('GET', KEYS[1]) == '?' .. ARGV[1] then
    redis.call('DEL', KEYS[1])
  end
end
redis.call('DEL', KEYS[3])
return 'finished'
