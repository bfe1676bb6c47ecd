-- Sends one single-chat message (API.md, *Single-chat rules*), all in one atomic step:
-- checks the sender's token and account, the recipient, their blacklist and the
-- recipient's chatset with the per-pair quota; builds the message object with the
-- names from remarks; appends it to both owners' history lists (capped) and to
-- chat:stream:messages; then routes it as deliver.lua does (the routing block is the
-- same: EVALSHA scripts cannot share code) or queues it offline.
-- A client id makes the send idempotent: a retried send within the window answers the
-- message the first one was accepted as (found by the id KEYS[13] keeps), and nothing is
-- written or delivered again.
-- KEYS[1] chat_user_{me}  KEYS[2] chat:user:{me}  KEYS[3] chat:user:{to}
-- KEYS[4] chat:friends:{to}  KEYS[5] chat:friends:{me}  KEYS[6] chat:quota:{me}
-- KEYS[7] chatlog:chatlog_{me}_single_{to}  KEYS[8] chatlog:chatlog_{to}_single_{me}
-- KEYS[9] chat:stream:messages  KEYS[10] online_{to}  KEYS[11] chat_getmessage_{to}
-- KEYS[12] chat:nodes  KEYS[13] chat:sent:{me}:{client id} (any key when there is none)
-- KEYS[14] chat:nodes:deliveries
-- ARGV[1] message id  ARGV[2] my id  ARGV[3] recipient id  ARGV[4] message type
-- ARGV[5] data (JSON text)  ARGV[6] options (JSON text)  ARGV[7] my token, or '' when
-- the caller already checked it  ARGV[8] client id or ''  ARGV[9] client id window (s)
-- ARGV[10] history cap  ARGV[11] stream cap (MAXLEN ~)  ARGV[12] caller's node id
-- ARGV[13] dead after (ms)  ARGV[14] offline queue cap  ARGV[15] channel prefix
-- ARGV[16] 'autoreply' for the recipient's automatic Q&A answer (the asker asked for it:
-- their chatset and the pre-friendship quota are not checked nor counted), else ''
-- Returns {route, argument, message JSON, history entries trimmed}: route 'local' (the
-- caller pushes to connection `argument`), 'routed' (published to node `argument`),
-- 'queued' (`argument` = entries the queue cap dropped) or 'duplicate'; 'local' adds the
-- last sequence published to the caller's process (as deliver.lua). Errors: 'token',
-- 'sender', 'recipient', 'blacklisted', 'blocked', 'friends_only', 'quota'; the last
-- four followed by ' user' or ' visitor' (the sender's stored role picks the text).
local historyCap, streamCap = tonumber(ARGV[10]), tonumber(ARGV[11])
local deadAfter, queueCap = tonumber(ARGV[13]), tonumber(ARGV[14])
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not historyCap or historyCap <= 0 or not streamCap
  or not deadAfter or not queueCap or queueCap <= 0 or ARGV[15] == '' then
  return redis.error_reply('ERR bad_arguments')
end

if ARGV[8] ~= '' then
  -- The record holds the accepted message's id (an id, not the message: at thousands of
  -- sends a second over the window, whole messages would cost Redis gigabytes); the
  -- message itself is found in my history from its newest end, as revoke does. Gone from
  -- there (trimmed, or the retry names another recipient): the id alone answers.
  local earlier = redis.call('GET', KEYS[13])
  if earlier then
    local prefix = '{"id":"' .. earlier .. '"'
    local stop = redis.call('LLEN', KEYS[7]) - 1
    local floor = math.max(0, stop + 1 - historyCap)
    while stop >= floor do
      local start = math.max(floor, stop - 99)
      local page = redis.call('LRANGE', KEYS[7], start, stop)
      for i = #page, 1, -1 do
        if string.sub(page[i], 1, #prefix) == prefix then
          return {'duplicate', '', page[i], 0}
        end
      end
      stop = start - 1
    end
    return {'duplicate', '', prefix .. '}', 0}
  end
end
if ARGV[7] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[7] then
  return redis.error_reply('token')
end
local me = redis.call('HMGET', KEYS[2], 'status', 'role', 'nickname', 'username', 'avatar', 'uuid')
if me[1] ~= '1' then
  return redis.error_reply('sender')
end
local role = me[2] == 'visitor' and 'visitor' or 'user'
local to = redis.call('HMGET', KEYS[3], 'status', 'nickname', 'username', 'avatar', 'userset')
if to[1] ~= '1' then
  return redis.error_reply('recipient')
end

local function number(value)
  if value == nil then return nil end
  return tonumber(value)
end
local function row(json)
  if not json then return nil end
  local ok, decoded = pcall(cjson.decode, json)
  if ok and type(decoded) == 'table' then return decoded end
  return nil
end
local theirRowOfMe = row(redis.call('HGET', KEYS[4], ARGV[2]))
if theirRowOfMe then
  if number(theirRowOfMe.isblack) == 1 then
    return redis.error_reply('blacklisted ' .. role)
  end
  if (number(theirRowOfMe.status) or 1) ~= 1 then
    return redis.error_reply('blocked ' .. role)
  end
elseif ARGV[16] ~= 'autoreply' then
  -- Not their friend: their chatset for my role (absent or unreadable: one message).
  local sendCount = 1
  local settings = row(to[5])
  local chatset = settings and type(settings.chatset) == 'table' and settings.chatset[role]
  if type(chatset) == 'table' and number(chatset.sendCount) then
    sendCount = number(chatset.sendCount)
  end
  if sendCount == 0 then
    return redis.error_reply('friends_only ' .. role)
  elseif sendCount == 1 then
    if (tonumber(redis.call('HGET', KEYS[6], ARGV[3])) or 0) >= 1 then
      return redis.error_reply('quota ' .. role)
    end
    redis.call('HINCRBY', KEYS[6], ARGV[3], 1)
  end
end

-- Accepted. Names: the reader's remark for the other side, else nickname, else username.
local function nonEmpty(value)
  return type(value) == 'string' and value ~= '' and value or nil
end
local myRowOfThem = row(redis.call('HGET', KEYS[5], ARGV[3]))
local fromName = nonEmpty(theirRowOfMe and theirRowOfMe.nickname) or nonEmpty(me[3]) or me[4] or ''
local toName = nonEmpty(myRowOfThem and myRowOfThem.nickname) or nonEmpty(to[2]) or to[3] or ''

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function quote(text)
  return '"' .. (string.gsub(text, '[%c"\\]', function(c)
    return escapes[c] or string.format('\\u%04x', string.byte(c))
  end)) .. '"'
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local message = '{"id":' .. quote(ARGV[1]) .. ',"from_id":' .. ARGV[2] .. ',"from_name":' .. quote(fromName)
  .. ',"from_avatar":' .. quote(me[5] or '') .. ',"to_id":' .. ARGV[3] .. ',"to_name":' .. quote(toName)
  .. ',"to_avatar":' .. quote(to[4] or '') .. ',"chatType":"single","type":' .. quote(ARGV[4])
  .. ',"data":' .. ARGV[5] .. ',"options":' .. ARGV[6] .. ',"create_time":' .. now
  .. ',"isremove":0,"sendUUid":' .. quote(me[6] or '') .. '}'

local trimmed = 0
for _, history in ipairs({KEYS[7], KEYS[8]}) do
  local length = redis.call('RPUSH', history, message)
  if length > historyCap then
    redis.call('LTRIM', history, length - historyCap, -1)
    trimmed = trimmed + length - historyCap
  end
end
redis.call('XADD', KEYS[9], 'MAXLEN', '~', streamCap, '*',
  'v', 1, 'kind', 'message', 'id', ARGV[1], 'chat_type', 'single', 'type', ARGV[4],
  'from_id', ARGV[2], 'to_id', ARGV[3], 'from_name', fromName, 'from_avatar', me[5] or '',
  'to_name', toName, 'to_avatar', to[4] or '', 'data', ARGV[5], 'options', ARGV[6],
  'create_time', now, 'isremove', 0)
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[13], ARGV[1], 'EX', ARGV[9])
end

-- Routing, as in deliver.lua.
local target = redis.call('GET', KEYS[10])
if target then
  local node, conn = string.match(target, '^([^:]+):(.+)$')
  local beat = node and redis.call('ZSCORE', KEYS[12], node)
  if beat and now - tonumber(beat) <= deadAfter then
    if node == ARGV[12] then
      return {'local', conn, message, trimmed, tonumber(redis.call('HGET', KEYS[14], node) or '0')}
    end
    local sequence = redis.call('HINCRBY', KEYS[14], node, 1)
    local envelope = 'deliver ' .. ARGV[3] .. ':' .. conn .. ' ' .. sequence .. '\n' .. message
    if redis.call('PUBLISH', ARGV[15] .. node, envelope) > 0 then
      return {'routed', node, message, trimmed}
    end
    redis.call('HINCRBY', KEYS[14], node, -1)
  else
    redis.call('DEL', KEYS[10])
  end
end
local length = redis.call('RPUSH', KEYS[11], message)
local dropped = 0
if length > queueCap then
  dropped = length - queueCap
  redis.call('LTRIM', KEYS[11], dropped, -1)
end
return {'queued', dropped, message, trimmed}
