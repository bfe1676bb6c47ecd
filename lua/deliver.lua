-- Routes one message object to its user's delivery target, or queues it (the routing
-- rules are lib/routing.lua's). A target the caller found gone can be excluded: the
-- message then goes to the offline queue. On a partitioned layout, in the user's
-- partition (its copies of the delivery keys and the processes' streams there).
-- KEYS[1] online: online_{uid}
-- KEYS[2] queue: chat_getmessage_{uid}
-- KEYS[3] nodes: chat:nodes (the partition's)
-- KEYS[4] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[5] offline_bodies: chat:offline:bodies (the partition's)
-- KEYS[6] offline_bytes: chat:offline:bytes (the partition's)
-- ARGV[1] user: the user id
-- ARGV[2] message: the message object (JSON text)
-- ARGV[3] node: the caller's node id
-- ARGV[4] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[5] queue_cap: the offline queue's cap
-- ARGV[6] excluded: a target to treat as gone, or ''
-- ARGV[7] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[8] queue_bytes: the offline queue's cap in bytes
-- ARGV[9] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- Returns {'local', conn, last sequence sent here} | {'routed', node} |
-- {'queued', entries dropped by the cap}.
--@include routing
local deadAfter = tonumber(ARGV[4])
local queue = offline_settings(ARGV[5], ARGV[8], KEYS[5], KEYS[6])
if ARGV[1] == '' or ARGV[2] == '' or ARGV[7] == '' or not deadAfter or not queue or ARGV[9] == nil then
  return redis.error_reply('ERR bad_arguments')
end

local route, argument, after = route_one(ARGV[1], ARGV[2], KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3], deadAfter,
  queue, ARGV[7], ARGV[6], nil, ARGV[9])
if route == 'local' then
  return {route, argument, after}
end
return {route, argument}
