-- Revokes a single-chat message (API.md, revokeMessage with its Fix): only the sender,
-- within the window of the STORED time. Both owners' stored copies are marked
-- isremove 1, and a 'revoke' entry goes to chat:stream:messages, in one atomic step.
-- The sender's history is searched from its newest end (a revocable message is recent).
-- KEYS[1] chatlog:chatlog_{me}_single_{to}  KEYS[2] chatlog:chatlog_{to}_single_{me}
-- KEYS[3] chat:stream:messages
-- ARGV[1] message id  ARGV[2] my id  ARGV[3] recipient id  ARGV[4] window (ms)
-- ARGV[5] stream cap (MAXLEN ~)  ARGV[6] most history entries searched
-- ARGV[7] from_name  ARGV[8] from_avatar  ARGV[9] to_name  ARGV[10] to_avatar
-- ARGV[11] the notice's data (JSON text)
-- Returns {'revoked' | 'already', now in ms}. Errors: 'missing' (no such message of mine
-- to that recipient), 'expired'.
local window, cap, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if ARGV[1] == '' or not window or not cap or not limit then
  return redis.error_reply('ERR bad_arguments')
end

local prefix = '{"id":"' .. ARGV[1] .. '"'
local index, entry
local stop = redis.call('LLEN', KEYS[1]) - 1
local searched = 0
while not entry and stop >= 0 and searched < limit do
  local start = math.max(0, stop - 99)
  local page = redis.call('LRANGE', KEYS[1], start, stop)
  for i = #page, 1, -1 do
    if string.sub(page[i], 1, #prefix) == prefix then
      index, entry = start + i - 1, page[i]
      break
    end
  end
  searched = searched + #page
  stop = start - 1
end
if not entry then
  return redis.error_reply('missing')
end
local ok, message = pcall(cjson.decode, entry)
if not ok or tostring(message.from_id) ~= ARGV[2] or tostring(message.to_id) ~= ARGV[3] then
  return redis.error_reply('missing')
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if type(message.create_time) ~= 'number' or now - message.create_time > window then
  return redis.error_reply('expired')
end
if message.isremove == 1 then
  return {'already', now}
end

-- The send script writes isremove and sendUUid last; data and options, which come
-- before them, are the client's and cannot be matched by this anchored pattern.
local marked, count = string.gsub(entry, ',"isremove":0,"sendUUid":("[^"]*")}$', ',"isremove":1,"sendUUid":%1}')
if count ~= 1 then
  return redis.error_reply('ERR malformed_message')
end
redis.call('LSET', KEYS[1], index, marked)
local peerIndex = redis.call('LPOS', KEYS[2], entry, 'RANK', -1)
if peerIndex then
  redis.call('LSET', KEYS[2], peerIndex, marked)
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', cap, '*',
  'v', 1, 'kind', 'revoke', 'id', ARGV[1], 'chat_type', 'single', 'type', 'systemNotice',
  'from_id', ARGV[2], 'to_id', ARGV[3], 'from_name', ARGV[7], 'from_avatar', ARGV[8],
  'to_name', ARGV[9], 'to_avatar', ARGV[10], 'data', ARGV[11], 'options', '{}',
  'create_time', now, 'isremove', 1)
return {'revoked', now}
