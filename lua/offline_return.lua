-- Messages a dropped connection had not handed to the kernel go back to its user's
-- offline queue (docs/architecture.md, *Delivery*, back-pressure), in order: those whose
-- writes failed to the FRONT (they are older than anything queued since the drop);
-- those held back behind a flush after the queue's remainder, which they are newer than.
-- The queue stays capped (the oldest beyond the cap are dropped, as by routing).
-- KEYS[1] queue: chat_getmessage_{uid}
-- ARGV[1] queue_cap: the offline queue's cap
-- ARGV[2] front: how many of the messages go to the front
-- ARGV[3...] message: the messages, oldest first
-- Returns the number of entries the cap dropped.
--@include routing
local cap = tonumber(ARGV[1])
local front = tonumber(ARGV[2])
local count = #ARGV - 2
if not cap or cap <= 0 or not front or front < 0 or front > count then
  return redis.error_reply('ERR bad_arguments')
end
for i = front, 1, -1 do
  redis.call('LPUSH', KEYS[1], ARGV[2 + i])
end
local dropped = 0
for i = front + 1, count do
  dropped = dropped + enqueue(KEYS[1], ARGV[2 + i], cap)
end
local length = redis.call('LLEN', KEYS[1])
if length > cap then
  redis.call('LTRIM', KEYS[1], length - cap, -1)
  dropped = dropped + length - cap
end
return dropped
