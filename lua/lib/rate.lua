-- take_send_token(key, rate, burst, now): the sender's token bucket (docs/operations.md,
-- *Quotas*), as GCRA: `key` holds the theoretical arrival time of the next send in
-- milliseconds of Redis' clock (`now`, the caller's now_ms(): one TIME per script); a send
-- may come up to (burst - 1) intervals early.
-- Returns true and books the send, or false and writes nothing. A rate of 0 turns the
-- quota off. One string per active sender, gone (PEXPIRE) once the bucket is full again.
local function take_send_token(key, rate, burst, now)
  if rate <= 0 then return true end
  local interval = 1000 / rate
  local due = tonumber(redis.call('GET', key) or '') or now
  if due < now then due = now end
  if due - now > (burst - 1) * interval then return false end
  due = due + interval
  redis.call('SET', key, string.format('%.3f', due), 'PX', math.ceil(due - now))
  return true
end
