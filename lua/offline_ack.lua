-- Removes from the head of an offline queue the entries a flush wrote (offline_read.lua
-- read them), and only those (docs/architecture.md, *Delivery*). Others may have changed
-- the head meanwhile: a second connection of the user flushing too (it removed some of
-- them first), a cap dropping the oldest. The written entries still queued are then a
-- run at the head beginning with one of them: that run is removed; anything else at
-- the head (not written by this flush) stays.
-- KEYS[1] queue: chat_getmessage_{uid}
-- KEYS[2] offline_bodies: chat:offline:bodies (the user's partition's)
-- KEYS[3] offline_bytes: chat:offline:bytes (the user's partition's)
-- ARGV[1...] fingerprint: of each entry written, oldest first
-- Returns the number of entries removed.
--@include offline_queue
local written = #ARGV
if written == 0 then
  return 0
end
local head = redis.call('LRANGE', KEYS[1], 0, written - 1)
if #head == 0 then
  return 0
end
local first = offline_fingerprint(head[1])
local start
for i = 1, written do
  if ARGV[i] == first then
    start = i
    break
  end
end
if not start then
  return 0
end
local removed = 1
while removed < #head and start + removed <= written
  and offline_fingerprint(head[removed + 1]) == ARGV[start + removed] do
  removed = removed + 1
end
redis.call('LTRIM', KEYS[1], removed, -1)
local gone = {}
for i = 1, removed do gone[i] = head[i] end
offline_release(KEYS[1], gone, KEYS[2], KEYS[3])
return removed
