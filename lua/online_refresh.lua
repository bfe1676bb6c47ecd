-- The heartbeat of a process's live connections, a batch of n in one call. An
-- online_{id} that still points at its connection gets its TTL back (with the token id
-- beside it); one that is missing — Redis restarted or lost it, or this process was
-- taken for dead during a stall — is claimed again, and the caller then flushes that
-- user's offline queue, where messages went meanwhile; one that points elsewhere (a
-- newer connection) is left alone.
-- KEYS[1..n] online_{id}  KEYS[n+1..2n] chat:online:token:{id}
-- ARGV[1] ttl (ms)  ARGV[2..n+1] targets '{node}:{conn}'  ARGV[n+2..2n+1] token ids
-- Returns one integer per connection: 1 refreshed, 2 claimed again, 0 not the target.
local ttl = tonumber(ARGV[1])
local n = #KEYS / 2
if not ttl or ttl <= 0 or #KEYS % 2 ~= 0 or #ARGV ~= 2 * n + 1 then
  return redis.error_reply('ERR bad_arguments')
end
local result = {}
for i = 1, n do
  local current = redis.call('GET', KEYS[i])
  if current == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ttl)
    redis.call('PEXPIRE', KEYS[n + i], ttl)
    result[i] = 1
  elseif not current then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ttl)
    redis.call('SET', KEYS[n + i], ARGV[n + i + 1], 'PX', ttl)
    result[i] = 2
  else
    result[i] = 0
  end
end
return result
