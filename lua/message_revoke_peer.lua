-- The recipient's step of revoking a single-chat message between two partitions (after
-- message_revoke_single.lua with peer_step 'own' revoked the sender's copy): their copy,
-- found through their history's own index, is marked isremove 1 as the sender's was.
-- Idempotent: a copy marked already, or not there, is left as it is.
-- KEYS[1] recipient_history: chatlog:chatlog_{to}_single_{me}
-- ARGV[1] id: the message id
-- ARGV[2] me: the sender's id
-- ARGV[3] to: the recipient's id
-- ARGV[4] search_limit: only a message among the newest this many entries is found
-- Returns 1 when their copy was marked now, 0 otherwise (marked before, or not there).
--@include messages
local limit = tonumber(ARGV[4])
if ARGV[1] == '' or not limit then
  return redis.error_reply('ERR bad_arguments')
end
local index, entry = find_message(KEYS[1], ARGV[1], limit, nil)
if not entry then
  return 0
end
local ok, message = pcall(cjson.decode, entry)
if not ok or tostring(message.from_id) ~= ARGV[2] or tostring(message.to_id) ~= ARGV[3] then
  return 0
end
local marked, count = string.gsub(entry, ',"isremove":0,"sendUUid":("[^"]*")}$', ',"isremove":1,"sendUUid":%1}')
if count ~= 1 then
  return 0
end
redis.call('LSET', KEYS[1], index, marked)
return 1
