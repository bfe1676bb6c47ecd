-- A process shutting down leaves chat:nodes, and nobody routes to it any more. Entries
-- still in its stream (sent after it stopped reading) are not lost: it stays, scored 0
-- (dead), until a live process has reaped them (lua/node_heartbeat.lua), and is then
-- pruned. On a partitioned layout, once per partition (its keys and stream there).
-- KEYS[1] nodes: chat:nodes (the partition's)
-- KEYS[2] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[3] stats: chat:nodes:stats (the partition's; its dashboard figures go at once: it holds no sockets)
-- ARGV[1] node: the node id
-- ARGV[2] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[3] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- Returns 1 when it left at once, 0 when its stream waits to be reaped.
if ARGV[1] == '' or ARGV[2] == '' or ARGV[3] == nil then
  return redis.error_reply('ERR bad_arguments')
end
local stream = ARGV[2] .. ARGV[1] .. ARGV[3]
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('XLEN', stream) > 0 then
  redis.call('ZADD', KEYS[1], 0, ARGV[1])
  return 0
end
-- empty: trimmed to nothing, a key still
redis.call('DEL', stream)
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
