-- Sends one group message (API.md, *Group rules*), all in one atomic step: checks the
-- sender's token and account, the group (status 1) and my membership (status 1); builds
-- the message object (from_* = my group nickname / avatar, else my nickname / username /
-- avatar; to_* = the group; the compact group object, without members); appends it ONCE
-- to the group's history (capped) and once to chat:stream:messages; then fans it out to
-- every active member but me as deliver_many.lua does (the routing block is the same:
-- EVALSHA scripts cannot share code): connections on the caller's process are returned to
-- it, one publish per other live process carries that process's recipients, everyone
-- else gets it in their offline queue.
--
-- The recipients come from the caller, who caches each group's active members with the
-- members version (KEYS[5]) they were read at: every membership change increments that
-- version, and a list for another version is answered 'stale' with the current version
-- and members, so the caller refreshes its cache and sends again. Thus every key the
-- script touches is in KEYS, and the member rows are not decoded on every message.
-- A missing version (a Redis rebuilt from MariaDB) is seeded from Redis' clock in
-- microseconds, so it never equals a version cached before.
--
-- A client id makes the send idempotent, as in message_send_single.lua: a retried send
-- within the window answers the message the first one was accepted as (found by the id
-- KEYS[9] keeps), and nothing is written or delivered again.
-- KEYS[1] chat_user_{me}  KEYS[2] chat:user:{me}  KEYS[3] chat:group:{gid}
-- KEYS[4] chat:group:{gid}:members  KEYS[5] chat:group:{gid}:members:v
-- KEYS[6] chatlog:group_{gid}  KEYS[7] chat:stream:messages  KEYS[8] chat:nodes
-- KEYS[9] chat:sent:{me}:{client id} (any key when there is none)
-- then for each recipient i (ARGV[16 + i]): KEYS[8 + 2i] online_{uid},
-- KEYS[9 + 2i] chat_getmessage_{uid}; last, chat:nodes:deliveries (publishes are numbered
-- per process as in deliver.lua)
-- ARGV[1] message id  ARGV[2] my id  ARGV[3] group id  ARGV[4] message type
-- ARGV[5] data (JSON text)  ARGV[6] options (JSON text)  ARGV[7] my token, or '' when
-- the caller already checked it  ARGV[8] client id or ''  ARGV[9] client id window (s)
-- ARGV[10] history cap  ARGV[11] stream cap (MAXLEN ~)  ARGV[12] caller's node id
-- ARGV[13] dead after (ms)  ARGV[14] offline queue cap  ARGV[15] channel prefix
-- ARGV[16] the members version the recipients were read at  ARGV[17..] recipient ids
-- (the active members; mine is skipped)
-- Returns {'sent', message JSON, local addresses '{uid}:{conn},…' or '',
-- members routed to other processes (one publish per process), members queued, queue
-- entries dropped, history entries trimmed, last sequence published to the caller's process},
-- {'duplicate', message JSON} or {'stale', members version, active member ids…}.
-- Errors: 'token', 'sender', 'group', 'not_member'.
local historyCap, streamCap = tonumber(ARGV[10]), tonumber(ARGV[11])
local deadAfter, queueCap = tonumber(ARGV[13]), tonumber(ARGV[14])
local recipients = #ARGV - 16
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not historyCap or historyCap <= 0 or not streamCap
  or not deadAfter or not queueCap or queueCap <= 0 or ARGV[15] == '' or recipients < 0
  or #KEYS ~= 10 + 2 * recipients then
  return redis.error_reply('ERR bad_arguments')
end

if ARGV[8] ~= '' then
  -- The record holds the accepted message's id; the message is found in the group's
  -- history from its newest end (gone from there: the id alone answers), as in
  -- message_send_single.lua.
  local earlier = redis.call('GET', KEYS[9])
  if earlier then
    local prefix = '{"id":"' .. earlier .. '"'
    local stop = redis.call('LLEN', KEYS[6]) - 1
    local floor = math.max(0, stop + 1 - historyCap)
    while stop >= floor do
      local start = math.max(floor, stop - 99)
      local page = redis.call('LRANGE', KEYS[6], start, stop)
      for i = #page, 1, -1 do
        if string.sub(page[i], 1, #prefix) == prefix then
          return {'duplicate', page[i]}
        end
      end
      stop = start - 1
    end
    return {'duplicate', prefix .. '}'}
  end
end
if ARGV[7] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[7] then
  return redis.error_reply('token')
end
local me = redis.call('HMGET', KEYS[2], 'status', 'nickname', 'username', 'avatar', 'uuid')
if me[1] ~= '1' then
  return redis.error_reply('sender')
end
local group = redis.call('HMGET', KEYS[3], 'status', 'name', 'avatar', 'user_id', 'remark', 'invite_confirm')
if group[1] ~= '1' then
  return redis.error_reply('group')
end
local mine = redis.call('HGET', KEYS[4], ARGV[2])
local ok, myRow = pcall(cjson.decode, mine or '')
if not ok or type(myRow) ~= 'table' or tonumber(myRow.status) ~= 1 then
  return redis.error_reply('not_member')
end

local version = redis.call('GET', KEYS[5])
if not version then
  local time = redis.call('TIME')
  version = time[1] .. string.format('%06d', tonumber(time[2]))
  redis.call('SET', KEYS[5], version)
end
if version ~= ARGV[16] then
  local reply = {'stale', version}
  local flat = redis.call('HGETALL', KEYS[4])
  for i = 1, #flat, 2 do
    if string.match(flat[i + 1], '"status":(%d+)') == '1' then
      reply[#reply + 1] = flat[i]
    end
  end
  return reply
end

local function nonEmpty(value)
  return type(value) == 'string' and value ~= '' and value or nil
end
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function quote(text)
  return '"' .. (string.gsub(text, '[%c"\\]', function(c)
    return escapes[c] or string.format('\\u%04x', string.byte(c))
  end)) .. '"'
end
local function integer(text)
  return tostring(tonumber(text) or 0)
end

local fromName = nonEmpty(myRow.nickname) or nonEmpty(me[2]) or me[3] or ''
local fromAvatar = nonEmpty(myRow.avatar) or me[4] or ''
local groupName, groupAvatar = group[2] or '', group[3] or ''
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local message = '{"id":' .. quote(ARGV[1]) .. ',"from_id":' .. ARGV[2] .. ',"from_name":' .. quote(fromName)
  .. ',"from_avatar":' .. quote(fromAvatar) .. ',"to_id":' .. ARGV[3] .. ',"to_name":' .. quote(groupName)
  .. ',"to_avatar":' .. quote(groupAvatar) .. ',"chatType":"group","type":' .. quote(ARGV[4])
  .. ',"data":' .. ARGV[5] .. ',"options":' .. ARGV[6] .. ',"create_time":' .. now
  .. ',"isremove":0,"sendUUid":' .. quote(me[5] or '') .. ',"group":{"id":' .. ARGV[3]
  .. ',"name":' .. quote(groupName) .. ',"avatar":' .. quote(groupAvatar) .. ',"user_id":' .. integer(group[4])
  .. ',"remark":' .. (group[5] and quote(group[5]) or 'null') .. ',"invite_confirm":' .. integer(group[6]) .. '}}'

local trimmed = 0
local length = redis.call('RPUSH', KEYS[6], message)
if length > historyCap then
  trimmed = length - historyCap
  redis.call('LTRIM', KEYS[6], trimmed, -1)
end
redis.call('XADD', KEYS[7], 'MAXLEN', '~', streamCap, '*',
  'v', 1, 'kind', 'message', 'id', ARGV[1], 'chat_type', 'group', 'type', ARGV[4],
  'from_id', ARGV[2], 'to_id', ARGV[3], 'from_name', fromName, 'from_avatar', fromAvatar,
  'to_name', groupName, 'to_avatar', groupAvatar, 'data', ARGV[5], 'options', ARGV[6],
  'create_time', now, 'isremove', 0)
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[9], ARGV[1], 'EX', ARGV[9])
end

-- Fan-out, as in deliver_many.lua.
local alive = {}
local here, remote, nodes, offline = {}, {}, {}, {}
for i = 1, recipients do
  local uid = ARGV[16 + i]
  if uid ~= ARGV[2] then
    local online = KEYS[8 + 2 * i]
    local target = redis.call('GET', online)
    local node, conn
    if target then
      node, conn = string.match(target, '^([^:]+):(.+)$')
    end
    if node then
      if alive[node] == nil then
        local beat = redis.call('ZSCORE', KEYS[8], node)
        alive[node] = beat ~= false and now - tonumber(beat) <= deadAfter
      end
      if not alive[node] then
        redis.call('DEL', online)
        node = nil
      end
    end
    if not node then
      offline[#offline + 1] = i
    elseif node == ARGV[12] then
      here[#here + 1] = uid .. ':' .. conn
    else
      if not remote[node] then
        remote[node] = {}
        nodes[#nodes + 1] = node
      end
      local list = remote[node]
      list[#list + 1] = i
      list[#list + 1] = uid .. ':' .. conn
    end
  end
end

local published = 0
for _, node in ipairs(nodes) do
  local list = remote[node]
  local addresses = {}
  for j = 2, #list, 2 do addresses[#addresses + 1] = list[j] end
  local sequence = redis.call('HINCRBY', KEYS[#KEYS], node, 1)
  local envelope = 'deliver ' .. table.concat(addresses, ',') .. ' ' .. sequence .. '\n' .. message
  if redis.call('PUBLISH', ARGV[15] .. node, envelope) > 0 then
    published = published + #addresses
  else
    redis.call('HINCRBY', KEYS[#KEYS], node, -1)
    for j = 1, #list, 2 do offline[#offline + 1] = list[j] end
  end
end

local dropped = 0
for _, i in ipairs(offline) do
  local queue = KEYS[9 + 2 * i]
  local queued = redis.call('RPUSH', queue, message)
  if queued > queueCap then
    dropped = dropped + queued - queueCap
    redis.call('LTRIM', queue, queued - queueCap, -1)
  end
end
local after = #here > 0 and tonumber(redis.call('HGET', KEYS[#KEYS], ARGV[12]) or '0') or 0
return {'sent', message, table.concat(here, ','), published, #offline, dropped, trimmed, after}
