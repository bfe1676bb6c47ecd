-- Routes one message object to many users at once (group notices, group revoke notices),
-- as deliver.lua does for one: a target on the caller's process is returned to the
-- caller; targets on another live process get ONE publish per process, carrying that
-- process's recipients ('deliver {uid}:{conn},{uid}:{conn}… {sequence}' newline message); users
-- without a live target, or whose process has nobody subscribed, get the message in their
-- offline queue (capped). A stale online_{uid} of a dead process is removed. Publishes
-- are numbered per process as in deliver.lua.
-- KEYS[1] chat:nodes, then for each user i (ARGV[5 + i]): KEYS[2i] online_{uid},
-- KEYS[2i + 1] chat_getmessage_{uid}; last, chat:nodes:deliveries
-- ARGV[1] message JSON  ARGV[2] caller's node id  ARGV[3] dead after (ms)
-- ARGV[4] offline queue cap  ARGV[5] channel prefix 'chat:node:'  ARGV[6..] user ids
-- Returns {local addresses '{uid}:{conn},…' or '', users routed to other processes (one
-- publish per process), users queued, entries dropped by the queue cap, last sequence
-- published to the caller's process}.
local deadAfter, cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local users = #ARGV - 5
if ARGV[1] == '' or ARGV[5] == '' or not deadAfter or not cap or cap <= 0 or #KEYS ~= 2 + 2 * users then
  return redis.error_reply('ERR bad_arguments')
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local alive = {}
local here, remote, nodes, offline = {}, {}, {}, {}
for i = 1, users do
  local uid, online = ARGV[5 + i], KEYS[2 * i]
  local target = redis.call('GET', online)
  local node, conn
  if target then
    node, conn = string.match(target, '^([^:]+):(.+)$')
  end
  if node then
    if alive[node] == nil then
      local beat = redis.call('ZSCORE', KEYS[1], node)
      alive[node] = beat ~= false and now - tonumber(beat) <= deadAfter
    end
    if not alive[node] then
      redis.call('DEL', online)
      node = nil
    end
  end
  if not node then
    offline[#offline + 1] = i
  elseif node == ARGV[2] then
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

local published = 0
for _, node in ipairs(nodes) do
  local list = remote[node]
  local addresses = {}
  for j = 2, #list, 2 do addresses[#addresses + 1] = list[j] end
  local sequence = redis.call('HINCRBY', KEYS[#KEYS], node, 1)
  local envelope = 'deliver ' .. table.concat(addresses, ',') .. ' ' .. sequence .. '\n' .. ARGV[1]
  if redis.call('PUBLISH', ARGV[5] .. node, envelope) > 0 then
    published = published + #addresses
  else
    redis.call('HINCRBY', KEYS[#KEYS], node, -1)
    for j = 1, #list, 2 do offline[#offline + 1] = list[j] end
  end
end

local dropped = 0
for _, i in ipairs(offline) do
  local queue = KEYS[2 * i + 1]
  local length = redis.call('RPUSH', queue, ARGV[1])
  if length > cap then
    dropped = dropped + length - cap
    redis.call('LTRIM', queue, length - cap, -1)
  end
end
local after = #here > 0 and tonumber(redis.call('HGET', KEYS[#KEYS], ARGV[2]) or '0') or 0
return {table.concat(here, ','), published, #offline, dropped, after}
