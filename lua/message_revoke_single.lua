-- Revokes a single-chat message (docs/api.md, revokeMessage): only the sender, within
-- the window of the STORED time. Both owners' stored copies are marked isremove 1, and a
-- 'revoke' entry goes to chat:stream:messages, in one atomic step. Both copies are found
-- through the pair's id index (lib/messages.lua), never by scanning a list.
-- Between two partitions (`peer_step` 'own') this is the sender's step: my copy only,
-- through my history's own index, and the revoke entry on my partition's shard; the
-- recipient's copy is marked by message_revoke_peer.lua in theirs (run again on a retry,
-- which answers 'already' here).
-- KEYS[1] sender_history: chatlog:chatlog_{me}_single_{to}
-- KEYS[2] recipient_history: chatlog:chatlog_{to}_single_{me} (with peer_step 'own': my history again)
-- KEYS[3] stream: chat:stream:messages (the partition's shard)
-- ARGV[1] id: the message id
-- ARGV[2] me: my id
-- ARGV[3] to: the recipient's id
-- ARGV[4] window: how long a message may be revoked (ms)
-- ARGV[5] stream_cap: the stream's cap (MAXLEN ~)
-- ARGV[6] search_limit: only a message among the newest this many entries is found
-- ARGV[7] from_name: the notice's from_name
-- ARGV[8] from_avatar: the notice's from_avatar
-- ARGV[9] notice: the notice's data (JSON text)
-- ARGV[10] peer_step: '' (both copies here) or 'own' (my copy; the recipient's step marks theirs)
-- Returns {'revoked' | 'already', now in ms, to_name, to_avatar}: the notice's to_name and
-- to_avatar are the stored message's, never the client's (docs/api.md, revokeMessage).
-- Errors: 'missing' (no such message of mine to that recipient), 'expired'.
--@include clock
--@include messages
local window, cap, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if ARGV[1] == '' or not window or not cap or not limit then
  return redis.error_reply('ERR bad_arguments')
end

local ownOnly = ARGV[10] == 'own'
local indexed = ownOnly and KEYS[1] or pair_indexed(ARGV[2], ARGV[3], KEYS[1], KEYS[2])
local index, entry = find_message(KEYS[1], ARGV[1], limit, indexed)
if not entry then
  return redis.error_reply('missing')
end
local ok, message = pcall(cjson.decode, entry)
if not ok or tostring(message.from_id) ~= ARGV[2] or tostring(message.to_id) ~= ARGV[3] then
  return redis.error_reply('missing')
end

local now = now_ms()
if type(message.create_time) ~= 'number' or now - message.create_time > window then
  return redis.error_reply('expired')
end
-- The peer as the stored message names them.
local toName = type(message.to_name) == 'string' and message.to_name or ''
local toAvatar = type(message.to_avatar) == 'string' and message.to_avatar or ''
if message.isremove == 1 then
  return {'already', now, toName, toAvatar}
end

-- The send script writes isremove and sendUUid last; data and options, which come
-- before them, are the client's and cannot be matched by this anchored pattern.
local marked, count = string.gsub(entry, ',"isremove":0,"sendUUid":("[^"]*")}$', ',"isremove":1,"sendUUid":%1}')
if count ~= 1 then
  return redis.error_reply('ERR malformed_message')
end
redis.call('LSET', KEYS[1], index, marked)
if not ownOnly then
  local peerIndex, peerEntry = find_message(KEYS[2], ARGV[1], limit, indexed)
  if peerEntry == entry then
    redis.call('LSET', KEYS[2], peerIndex, marked)
  end
end
message_event(KEYS[3], cap, 'revoke', ARGV[1], 'single', 'systemNotice', ARGV[2], ARGV[3], ARGV[7], ARGV[8],
  toName, toAvatar, ARGV[9], '{}', now, 1)
return {'revoked', now, toName, toAvatar}
