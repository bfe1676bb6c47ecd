-- Routes one message object to its user's delivery target, or queues it (WEBSOCKET.md,
-- *Delivery*). A target counts only if its process's heartbeat in chat:nodes is recent:
-- a killed process stops being a target after `dead after` ms, and its stale online_{id}
-- is removed here. A target on the caller's own process is returned to the caller (it
-- pushes without a publish); one elsewhere gets the message through that process's
-- channel only. No live target, nobody subscribed, or the excluded target (the caller
-- found it gone): the message is appended to the offline queue, capped.
-- The channel payload is a node envelope (Sources/Model/Delivery/NodeEnvelope.swift):
-- 'deliver {id}:{conn} {sequence}' newline message, the sequence numbering what was
-- published to that process (chat:nodes:deliveries); a local target comes back with the
-- number of the last one published here, which the caller's process must have pushed
-- first (a message routed here a moment ago still on its way stays ahead).
-- KEYS[1] online_{id}  KEYS[2] chat_getmessage_{id}  KEYS[3] chat:nodes
-- KEYS[4] chat:nodes:deliveries
-- ARGV[1] user id  ARGV[2] message JSON  ARGV[3] caller's node id  ARGV[4] dead after (ms)
-- ARGV[5] offline queue cap  ARGV[6] excluded target or ''  ARGV[7] channel prefix 'chat:node:'
-- Returns {'local', conn, last sequence published here} | {'routed', node} |
-- {'queued', entries dropped by the cap}.
local deadAfter = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
if ARGV[1] == '' or ARGV[2] == '' or ARGV[7] == '' or not deadAfter or not cap or cap <= 0 then
  return redis.error_reply('ERR bad_arguments')
end

local target = redis.call('GET', KEYS[1])
if target and target ~= ARGV[6] then
  local node, conn = string.match(target, '^([^:]+):(.+)$')
  local beat = node and redis.call('ZSCORE', KEYS[3], node)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if beat and now - tonumber(beat) <= deadAfter then
    if node == ARGV[3] then
      return {'local', conn, tonumber(redis.call('HGET', KEYS[4], node) or '0')}
    end
    local sequence = redis.call('HINCRBY', KEYS[4], node, 1)
    local envelope = 'deliver ' .. ARGV[1] .. ':' .. conn .. ' ' .. sequence .. '\n' .. ARGV[2]
    if redis.call('PUBLISH', ARGV[7] .. node, envelope) > 0 then
      return {'routed', node}
    end
    -- nobody received it: the number is free again
    redis.call('HINCRBY', KEYS[4], node, -1)
  else
    -- its process is dead: the key would only expire later
    redis.call('DEL', KEYS[1])
  end
end

local length = redis.call('RPUSH', KEYS[2], ARGV[2])
local dropped = 0
if length > cap then
  dropped = length - cap
  redis.call('LTRIM', KEYS[2], dropped, -1)
end
return {'queued', dropped}
