-- A member partition's step of a group send on a partitioned layout (after
-- message_group_apply.lua, in each partition of members other than the group's): routes
-- the accepted message to this partition's recipients, as deliver_many.lua does (targets
-- on the caller's process returned to it, one stream entry per other live process, the
-- others queued with the body stored once: lib/routing.lua), once: an `applied` marker by
-- message id makes a second run (a retry, the repairer) route nothing.
-- KEYS[1] applied: chat:applied:group:{id} (this partition's)
-- KEYS[2] nodes: chat:nodes (the partition's)
-- KEYS[3] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[4] offline_bodies: chat:offline:bodies (the partition's)
-- KEYS[5] offline_bytes: chat:offline:bytes (the partition's)
-- KEYS[6...] online, queue: for each recipient, online_{uid} and chat_getmessage_{uid}
-- ARGV[1] message: the message object (JSON text)
-- ARGV[2] me: the sender's id (skipped)
-- ARGV[3] node: the caller's node id
-- ARGV[4] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[5] queue_cap: the offline queue's cap
-- ARGV[6] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[7] queue_bytes: the offline queue's cap in bytes
-- ARGV[8] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- ARGV[9] applied_ttl: how long (s) the marker is kept
-- ARGV[10...] recipient: the active members of this partition
-- Returns {'delivered', local addresses '{uid}:{conn},…' or '', members routed to other
-- processes, members queued, entries dropped by the queue cap, last sequence sent to the
-- caller's process} or {'applied'} (routed before: nothing done).
--@include routing
local deadAfter, ttl = tonumber(ARGV[4]), tonumber(ARGV[9])
local queue = offline_settings(ARGV[5], ARGV[7], KEYS[4], KEYS[5])
local users = #ARGV - 9
if ARGV[1] == '' or ARGV[6] == '' or not deadAfter or not queue or not ttl or ttl <= 0 or users < 0
  or #KEYS ~= 5 + 2 * users then
  return redis.error_reply('ERR bad_arguments')
end
if not redis.call('SET', KEYS[1], 'delivered', 'NX', 'EX', ttl) then
  return {'applied'}
end
local here, published, queued, dropped, after = route_many(ARGV[1], users, 9, 5, KEYS[2], KEYS[3], ARGV[3], deadAfter,
  queue, ARGV[6], ARGV[2], now_ms(), ARGV[8])
return {'delivered', here, published, queued, dropped, after}
