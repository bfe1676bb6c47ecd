-- Routes one message object to many users at once (group notices, group revoke notices),
-- as deliver.lua does for one (lib/routing.lua): targets on the caller's process are
-- returned to the caller; targets on another live process get ONE stream entry per process,
-- carrying that process's recipients; the others get it in their offline queue (its
-- body stored once for all of them: lib/offline_queue.lua). On a partitioned layout the
-- users of one run are of one partition (the caller runs it once per partition).
-- KEYS[1] nodes: chat:nodes (the partition's)
-- KEYS[2] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[3] offline_bodies: chat:offline:bodies (the partition's)
-- KEYS[4] offline_bytes: chat:offline:bytes (the partition's)
-- KEYS[5...] online, queue: for each user, online_{uid} and chat_getmessage_{uid}
-- ARGV[1] message: the message object (JSON text)
-- ARGV[2] node: the caller's node id
-- ARGV[3] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[4] queue_cap: the offline queue's cap
-- ARGV[5] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[6] queue_bytes: the offline queue's cap in bytes
-- ARGV[7] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- ARGV[8...] user: the user ids
-- Returns {local addresses '{uid}:{conn},…' or '', users routed to other processes (one
-- stream entry per process), users queued, entries dropped by the queue cap, last sequence
-- sent to the caller's process}.
--@include routing
local deadAfter = tonumber(ARGV[3])
local queue = offline_settings(ARGV[4], ARGV[6], KEYS[3], KEYS[4])
local users = #ARGV - 7
if ARGV[1] == '' or ARGV[5] == '' or not deadAfter or not queue or #KEYS ~= 4 + 2 * users then
  return redis.error_reply('ERR bad_arguments')
end

local here, published, queued, dropped, after = route_many(ARGV[1], users, 7, 4, KEYS[1], KEYS[2], ARGV[2],
  deadAfter, queue, ARGV[5], nil, now_ms(), ARGV[7])
return {here, published, queued, dropped, after}
