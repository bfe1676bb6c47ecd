-- Rate limits of the public account endpoints (docs/operations.md, *Rate limits*): a
-- request's check and count in one run, so that concurrent requests cannot slip past a
-- limit together.
-- ARGV[1] op: 'count' (one call within a window), or a login's steps: 'attempt' (before
-- the password is checked), then 'fail', 'success' or 'release' (not checked after all)
-- @op count
-- KEYS[1] counter: chat_visitor_reg:{deviceId}, chat:limit:visitor:ip:{address} or
-- chat:limit:register:ip:{address}
-- ARGV[2] window: the window (s), from the first call counted
-- ARGV[3] limit: the most calls within it
-- @op attempt, fail, success, release
-- KEYS[1] account: chat:limit:login:user:{username}
-- KEYS[2] address: chat:limit:login:ip:{address}
-- ARGV[2] account_limit: failures in a row that lock the account (0: no limit)
-- ARGV[3] address_limit: failures that lock the address, whatever the accounts (0: no limit)
-- ARGV[4] lockout: the first lock (ms); each further lock of the same subject doubles it
-- ARGV[5] max_lockout: the longest lock (ms), also how long a quiet subject is remembered
-- @end
-- A login subject (the account, the address) is a hash: `failed` (failures since its
-- last lock or, for the account, success), `pending` (attempts not settled yet), `locks`
-- (locks so far), `until` (the lock's end, ms of Redis' clock). An attempt is refused
-- while a subject is locked, or while its failures and pending attempts reach its limit
-- (concurrent guesses are not let through before the first ones fail). A failure that
-- reaches the limit locks the subject; a success clears the account but not the address
-- (a login to one's own account must not buy more guesses at others).
-- Returns, for 'count': 0 (allowed) or -1 (one too many, not counted); for 'attempt': 0
-- (allowed) or the subjects that refuse it (1 the account, 2 the address, 3 both); for
-- 'fail': the subjects this failure locked, the same way; 0 for the others.
--@include clock
local op = ARGV[1]
if op == 'count' then
  local limit = tonumber(ARGV[3])
  if tonumber(redis.call('GET', KEYS[1]) or '0') >= limit then
    return -1
  end
  if redis.call('INCR', KEYS[1]) == 1 or redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
  end
  return 0
end

local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
local lockout, max_lockout = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
local states = {}
for i = 1, 2 do
  if limits[i] > 0 then
    local v = redis.call('HMGET', KEYS[i], 'failed', 'pending', 'locks', 'until')
    states[i] = {
      failed = tonumber(v[1]) or 0, pending = tonumber(v[2]) or 0,
      locks = tonumber(v[3]) or 0, till = tonumber(v[4]) or 0,
    }
  end
end

-- A subject with nothing to remember is deleted; else it lives until its lock ends and
-- max_lockout beyond, so that the doubling is forgotten after a quiet spell.
local function write(key, s)
  if s.failed == 0 and s.pending == 0 and s.locks == 0 then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'failed', s.failed, 'pending', s.pending, 'locks', s.locks, 'until', s.till)
  redis.call('PEXPIRE', key, math.max(s.till - now, 0) + max_lockout)
end

local result = 0
if op == 'attempt' then
  for i, s in pairs(states) do
    if s.till > now or s.failed + s.pending >= limits[i] then
      result = result + i
    end
  end
  if result > 0 then
    return result
  end
  for i, s in pairs(states) do
    s.pending = s.pending + 1
    write(KEYS[i], s)
  end
  return 0
end

for i, s in pairs(states) do
  if s.pending > 0 then
    s.pending = s.pending - 1
  end
  if op == 'fail' then
    s.failed = s.failed + 1
    if s.failed >= limits[i] then
      s.till = now + math.floor(math.min(lockout * 2 ^ s.locks, max_lockout))
      s.locks = s.locks + 1
      s.failed = 0
      result = result + i
    end
  elseif op == 'success' and i == 1 then
    s.failed, s.locks, s.till = 0, 0, 0
  end
  write(KEYS[i], s)
end
return result
