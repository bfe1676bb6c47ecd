-- Reads the head of an offline queue for a flush, without removing anything
-- (docs/architecture.md, *Delivery*): at most `count` entries and, past the first, no
-- more than about `bytes` bytes of messages; references resolved to their bodies
-- (lib/offline_queue.lua). The caller writes them, then removes exactly the ones
-- written with offline_ack.lua, passing back their fingerprints.
-- KEYS[1] queue: chat_getmessage_{uid}
-- KEYS[2] offline_bodies: chat:offline:bodies (the user's partition's)
-- ARGV[1] count: at most this many entries
-- ARGV[2] bytes: at most about this many bytes (the first entry whatever its size)
-- Returns {fingerprint 1, message 1, fingerprint 2, message 2, …}, oldest first; a message
-- is '' when its body is gone (its entry is still removed by the ack).
--@include offline_queue
local count, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
if not count or count <= 0 or not budget or budget <= 0 then
  return redis.error_reply('ERR bad_arguments')
end

return offline_read_head(KEYS[1], KEYS[2], count, budget)
