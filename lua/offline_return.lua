-- Messages a dropped or closed connection had not handed to the kernel go back to its
-- user's offline queue (docs/architecture.md, *Delivery*, back-pressure), in order: those
-- whose writes failed to the FRONT (they are older than anything queued since); those
-- held back behind a flush after the queue's remainder, which they are newer than. Both
-- as whole message objects, counted and capped like every queue entry
-- (lib/offline_queue.lua: the oldest beyond a cap are dropped).
-- KEYS[1] queue: chat_getmessage_{uid}
-- KEYS[2] offline_bodies: chat:offline:bodies (the user's partition's)
-- KEYS[3] offline_bytes: chat:offline:bytes (the user's partition's)
-- ARGV[1] queue_cap: the offline queue's cap in entries
-- ARGV[2] queue_bytes: the offline queue's cap in bytes
-- ARGV[3] front: how many of the messages go to the front
-- ARGV[4...] message: the messages, oldest first
-- Returns the number of entries the caps dropped.
--@include offline_queue
local settings = offline_settings(ARGV[1], ARGV[2], KEYS[2], KEYS[3])
local front = tonumber(ARGV[3])
local count = #ARGV - 3
if not settings or not front or front < 0 or front > count then
  return redis.error_reply('ERR bad_arguments')
end
local first = {}
for i = 1, front do
  first[i] = ARGV[3 + i]
end
local dropped = offline_push_front(KEYS[1], first, settings)
for i = front + 1, count do
  dropped = dropped + enqueue(KEYS[1], ARGV[3 + i], settings, nil)
end
return dropped
