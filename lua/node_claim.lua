-- A starting process takes over what an earlier process with its node id left in its
-- stream (docs/architecture.md, *Delivery*), and starts its delivery numbering afresh,
-- in one step: the entries up to the id returned are the earlier process's (their
-- addresses are its connections, their numbers its numbering), to be routed again;
-- every later one is numbered from 1 for this process (`DeliveryOrder`). On a
-- partitioned layout, once per partition: its stream and numbering there.
-- KEYS[1] deliveries: chat:nodes:deliveries (the partition's)
-- ARGV[1] node: the node id
-- ARGV[2] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[3] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- Returns the id of the newest entry the earlier process left, or '0-0'.
if ARGV[1] == '' or ARGV[2] == '' or ARGV[3] == nil then
  return redis.error_reply('ERR bad_arguments')
end
redis.call('HDEL', KEYS[1], ARGV[1])
local newest = redis.call('XREVRANGE', ARGV[2] .. ARGV[1] .. ARGV[3], '+', '-', 'COUNT', 1)
if #newest > 0 then
  return newest[1][1]
end
return '0-0'
