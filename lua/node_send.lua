-- Hands a kick or a flush request to the process holding a connection: an entry of its
-- stream (lib/envelope.lua), only if the process is alive; a dead one's connections
-- are gone already, and nothing is left behind for nobody to read. On a partitioned
-- layout, in the partition of the connection's user (its stream there).
-- KEYS[1] nodes: chat:nodes (the partition's)
-- ARGV[1] node: the target process's node id
-- ARGV[2] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[3] envelope: the node envelope ('kick {uid}:{conn}' or 'flush {uid}:{conn}')
-- ARGV[4] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[5] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- Returns 1 when sent, 0 when the process is dead.
--@include clock
--@include envelope
local deadAfter = tonumber(ARGV[2])
if ARGV[1] == '' or ARGV[3] == '' or ARGV[4] == '' or not deadAfter or ARGV[5] == nil then
  return redis.error_reply('ERR bad_arguments')
end
local beat = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not beat or now_ms() - tonumber(beat) > deadAfter then
  return 0
end
send_to_node(ARGV[4], ARGV[1], ARGV[3], nil, ARGV[5])
return 1
