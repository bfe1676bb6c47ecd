-- Counts a visitor call of a device; refuses once the device has made more than the
-- limit within the window (the counter lives as long as the window from its first call).
-- KEYS[1] counter: chat_visitor_reg:{deviceId}
-- ARGV[1] window: the window (s)
-- ARGV[2] limit: the most calls within the window
-- Returns 1 when the call is allowed, 0 when it is one too many.
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if count > tonumber(ARGV[2]) then
  return 0
end
return 1
