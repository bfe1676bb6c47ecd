-- The heartbeat of a process's live connections: each online_{id} (and the token id
-- beside it) that still points at the given target gets its TTL back; one that points
-- elsewhere is left alone. A batch of n connections in one call.
-- KEYS[1..n] online_{id}  KEYS[n+1..2n] chat:online:token:{id}
-- ARGV[1] ttl (ms)  ARGV[2..n+1] targets '{node}:{conn}'
-- Returns one integer per connection: 1 still the target, 0 no longer.
local ttl = tonumber(ARGV[1])
local n = #ARGV - 1
if not ttl or ttl <= 0 or #KEYS ~= 2 * n then
  return redis.error_reply('ERR bad_arguments')
end
local result = {}
for i = 1, n do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ttl)
    redis.call('PEXPIRE', KEYS[n + i], ttl)
    result[i] = 1
  else
    result[i] = 0
  end
end
return result
