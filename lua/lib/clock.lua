-- now_ms(): Redis' own clock in milliseconds, so that no decision depends on the
-- clocks of the bridge hosts agreeing.
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
