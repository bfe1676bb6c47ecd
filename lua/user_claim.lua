-- A unique name's claim on a tagged layout (docs/architecture.md, *Accounts on
-- partitions*): `chat:user:name:{username}`, `chat:user:uuid:{uuid}` or
-- `chat:user:device:{deviceId}`, each on its own slot, its value the id of the account
-- that holds it. A registration claims first (pending: with a deadline), writes the
-- account in its partition, then confirms (no deadline); a claim whose registration
-- crashed before its row expires by itself. Every operation is idempotent by the id.
-- KEYS[1] claim: chat:user:name:{username}, chat:user:uuid:{uuid} or chat:user:device:{deviceId}
-- ARGV[1] op: 'claim', 'confirm' or 'release'
-- ARGV[2] id: the account's id
-- @op claim
-- ARGV[3] pending_ms: how long the claim lives unconfirmed
-- ARGV[4] replacing: '' to claim a free name, else the id of a stale holder (its account
-- has no row with this name: the caller checked) that the claim replaces
-- @op confirm, release: the common keys and arguments only
-- @end
-- Returns 'OK' (claim: the name is the id's, pending unless it was confirmed already; confirm: the claim has no deadline
-- any more; release: the name is not the id's), or for a claim held by another id
-- {holder, its remaining ms: -1 confirmed}, for a confirm of a claim not the id's the
-- error 'lost'.
local op, id = ARGV[1], ARGV[2]
if op == 'claim' then
  local holder = redis.call('GET', KEYS[1])
  if holder == id then
    return redis.status_reply('OK')
  end
  if (holder and holder == ARGV[4]) or (not holder and ARGV[4] == '') then
    redis.call('SET', KEYS[1], id, 'PX', ARGV[3])
    return redis.status_reply('OK')
  end
  if not holder then
    return { '', -2 }
  end
  return { holder, redis.call('PTTL', KEYS[1]) }
elseif op == 'confirm' then
  if redis.call('GET', KEYS[1]) ~= id then
    return redis.error_reply('lost')
  end
  redis.call('PERSIST', KEYS[1])
  return redis.status_reply('OK')
elseif op == 'release' then
  if redis.call('GET', KEYS[1]) == id then
    redis.call('DEL', KEYS[1])
  end
  return redis.status_reply('OK')
end
return redis.error_reply('bad_arguments')
