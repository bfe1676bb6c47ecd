-- Revokes a group message (docs/api.md, revokeMessage): the group must be active
-- (status 1) and I must have a row in it; only the sender, within the window of the
-- STORED time. The group's stored copy (one per group), found through the history's id
-- index (lib/messages.lua), is marked isremove 1 and a
-- 'revoke' entry goes to chat:stream:messages, in one atomic step. Every key is the
-- group's (its partition's stream shard): one partition on any layout; the notice goes to
-- the members through deliver_many.lua, one run per partition of theirs. The notice is named
-- here: from my group nickname / avatar, else the ones the caller passes; to the group as
-- the stored message names it (never as the client says: docs/api.md, revokeMessage).
-- KEYS[1] group: chat:group:{gid}
-- KEYS[2] members: chat:group:{gid}:members
-- KEYS[3] history: chatlog:group_{gid}
-- KEYS[4] stream: chat:stream:messages (the group partition's shard)
-- ARGV[1] id: the message id
-- ARGV[2] me: my id
-- ARGV[3] group: the group id
-- ARGV[4] window: how long a message may be revoked (ms)
-- ARGV[5] stream_cap: the stream's cap (MAXLEN ~)
-- ARGV[6] search_limit: only a message among the newest this many entries is found
-- ARGV[7] my_name: my name (nickname or username)
-- ARGV[8] my_avatar: my avatar
-- Returns {'revoked' | 'already', now in ms, from_name, from_avatar, to_name, to_avatar,
-- member ids…}: the notice's names, and the members it goes to (every row but applicants
-- waiting for approval, me included). Errors: 'group', 'not_member', 'missing' (no such
-- message of mine in the group), 'expired'.
--@include clock
--@include json
--@include messages
local window, cap, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if ARGV[1] == '' or not window or not cap or not limit then
  return redis.error_reply('ERR bad_arguments')
end
if redis.call('HGET', KEYS[1], 'status') ~= '1' then
  return redis.error_reply('group')
end
local mine = redis.call('HGET', KEYS[2], ARGV[2])
local ok, myRow = pcall(cjson.decode, mine or '')
if not ok or type(myRow) ~= 'table' then
  return redis.error_reply('not_member')
end

local index, entry = find_message(KEYS[3], ARGV[1], limit)
if not entry then
  return redis.error_reply('missing')
end
local decoded, message = pcall(cjson.decode, entry)
if not decoded or tostring(message.from_id) ~= ARGV[2] then
  return redis.error_reply('missing')
end

local now = now_ms()
if type(message.create_time) ~= 'number' or now - message.create_time > window then
  return redis.error_reply('expired')
end

local fromName = non_empty(myRow.nickname) or ARGV[7]
local fromAvatar = non_empty(myRow.avatar) or ARGV[8]
local toName = type(message.to_name) == 'string' and message.to_name or ''
local toAvatar = type(message.to_avatar) == 'string' and message.to_avatar or ''
local reply = {'already', now, fromName, fromAvatar, toName, toAvatar}
local flat = redis.call('HGETALL', KEYS[2])
for i = 1, #flat, 2 do
  if string.match(flat[i + 1], '"status":(%d+)') ~= '2' then
    reply[#reply + 1] = flat[i]
  end
end
if message.isremove == 1 then
  return reply
end

-- The send script writes isremove after data and options (the client's JSON) and before
-- the group object, whose texts are escaped: the last occurrence is the message's own.
local marker = ',"isremove":0,"sendUUid":'
local at, from = nil, 1
while true do
  local found = string.find(entry, marker, from, true)
  if not found then break end
  at, from = found, found + 1
end
if not at then
  return redis.error_reply('ERR malformed_message')
end
local marked = string.sub(entry, 1, at - 1) .. ',"isremove":1,"sendUUid":' .. string.sub(entry, at + #marker)
redis.call('LSET', KEYS[3], index, marked)
local data = '{"data":' .. cjson.encode(fromName .. ' 撤回了一条消息') .. ',"dataType":false,"otherData":null}'
message_event(KEYS[4], cap, 'revoke', ARGV[1], 'group', 'systemNotice', ARGV[2], ARGV[3], fromName, fromAvatar,
  toName, toAvatar, data, '{}', now, 1)
reply[1] = 'revoked'
return reply
