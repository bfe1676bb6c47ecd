-- The heartbeat of a process's live connections, a batch of n in one call. An
-- online_{id} that still points at its connection gets its TTL back (with the token id
-- beside it); one that is missing — Redis restarted or lost it, or this process was
-- taken for dead during a stall — is claimed again, and the caller then flushes that
-- user's offline queue, where messages went meanwhile; one that points elsewhere (a
-- newer connection) is left alone. Every connection, target or not, stays one of its
-- user's live sockets (chat:sockets:{id}, scored by expiry).
-- KEYS[1...] online, online_token, sockets: for each connection, online_{id},
-- chat:online:token:{id} and chat:sockets:{id}
-- ARGV[1] ttl: how long a registration lives without a refresh (ms)
-- ARGV[2...] target, token_id: for each connection, '{node}:{conn}' and its token id
-- Returns one integer per connection: 1 refreshed, 2 claimed again, 0 not the target.
--@include clock
local ttl = tonumber(ARGV[1])
local n = #KEYS / 3
if not ttl or ttl <= 0 or #KEYS % 3 ~= 0 or #ARGV ~= 2 * n + 1 then
  return redis.error_reply('ERR bad_arguments')
end
local expiry = now_ms() + ttl
local result = {}
for i = 1, n do
  local online, token, sockets = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local target, tokenID = ARGV[2 * i], ARGV[2 * i + 1]
  redis.call('ZADD', sockets, expiry, target)
  redis.call('PEXPIRE', sockets, ttl)
  local current = redis.call('GET', online)
  if current == target then
    redis.call('PEXPIRE', online, ttl)
    redis.call('PEXPIRE', token, ttl)
    result[i] = 1
  elseif not current then
    redis.call('SET', online, target, 'PX', ttl)
    redis.call('SET', token, tokenID, 'PX', ttl)
    result[i] = 2
  else
    result[i] = 0
  end
end
return result
