-- A bridge process says it is alive: its id scored with Redis's own clock (ms), so
-- liveness never depends on the clocks of the bridge hosts agreeing. Entries silent
-- for longer than ARGV[2] ms are pruned, which bounds the zset, and their delivery
-- sequences with them.
-- KEYS[1] nodes: chat:nodes
-- KEYS[2] deliveries: chat:nodes:deliveries
-- ARGV[1] node: the node id
-- ARGV[2] prune_after: entries silent for longer than this (ms) are removed
-- Returns how many nodes are registered.
--@include clock
local prune = tonumber(ARGV[2])
if ARGV[1] == '' or not prune or prune <= 0 then
  return redis.error_reply('ERR bad_arguments')
end
local now = now_ms()
redis.call('ZADD', KEYS[1], now, ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - prune), 'LIMIT', 0, 1000)
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[2], unpack(gone))
end
return redis.call('ZCARD', KEYS[1])
