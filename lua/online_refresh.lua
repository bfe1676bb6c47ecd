-- The heartbeat of a process's live connections, a batch of n in one call. A connection
-- whose account is disabled (status not 1) or whose token is no longer the account's
-- current one (logged out, a newer login, a password change, an operator's kick) is
-- revoked: it leaves its user's live sockets and, if it is the target, online_{id} is
-- removed; the caller kicks it. An account whose row is missing is taken for Redis
-- having lost it (a restart without persistence): its connections are kept, as below.
-- Otherwise an online_{id} that still points at its connection gets its TTL back (with
-- the token id beside it); one that is missing — Redis restarted or lost it, or this
-- process was taken for dead during a stall — is claimed again, and the caller then
-- flushes that user's offline queue, where messages went meanwhile; one that points
-- elsewhere (a newer connection) is left alone. Every connection kept stays one of its
-- user's live sockets (chat:sockets:{id}, scored by expiry).
-- KEYS[1...] online, online_token, sockets, token, user: for each connection,
-- online_{id}, chat:online:token:{id}, chat:sockets:{id}, chat_user_{id} and
-- chat:user:{id}
-- ARGV[1] ttl: how long a registration lives without a refresh (ms)
-- ARGV[2...] target, token_id: for each connection, '{node}:{conn}' and the id of its
-- token (the token's signature, its last segment)
-- Returns one integer per connection: 1 refreshed, 2 claimed again, 0 not the target,
-- 3 revoked (to kick).
--@include clock
local ttl = tonumber(ARGV[1])
local n = #KEYS / 5
if not ttl or ttl <= 0 or #KEYS % 5 ~= 0 or #ARGV ~= 2 * n + 1 then
  return redis.error_reply('ERR bad_arguments')
end
local expiry = now_ms() + ttl
local result = {}
for i = 1, n do
  local online, token, sockets = KEYS[5 * i - 4], KEYS[5 * i - 3], KEYS[5 * i - 2]
  local current, user = KEYS[5 * i - 1], KEYS[5 * i]
  local target, tokenID = ARGV[2 * i], ARGV[2 * i + 1]
  local status = redis.call('HGET', user, 'status')
  local revoked = false
  if status then
    local stored = redis.call('GET', current)
    revoked = status ~= '1' or not stored or #stored <= #tokenID
      or string.sub(stored, -#tokenID - 1) ~= '.' .. tokenID
  end
  if revoked then
    redis.call('ZREM', sockets, target)
    if redis.call('GET', online) == target then
      redis.call('DEL', online, token)
    end
    result[i] = 3
  else
    redis.call('ZADD', sockets, expiry, target)
    redis.call('PEXPIRE', sockets, ttl)
    local registered = redis.call('GET', online)
    if registered == target then
      redis.call('PEXPIRE', online, ttl)
      redis.call('PEXPIRE', token, ttl)
      result[i] = 1
    elseif not registered then
      redis.call('SET', online, target, 'PX', ttl)
      redis.call('SET', token, tokenID, 'PX', ttl)
      result[i] = 2
    else
      result[i] = 0
    end
  end
end
return result
