-- The `/api/chat` authentication's reads in one step (docs/api.md, *Authentication*),
-- read-only: the token presented must be the account's current one (`chat_user_{id}`:
-- a logout or a newer login revokes it), and the account active (status 1; an
-- operator's `HSET … status 0` counts from the next request). With them, what the
-- route needs next, so that an authenticated request that does little is one command.
-- KEYS[1] token: chat_user_{id}
-- KEYS[2] user: chat:user:{id}
-- KEYS[3] online: online_{id}
-- ARGV[1] presented: the token the request presented (its signature already verified)
-- ARGV[2] read: 'row' for the account's row, 'target' for its delivery target, '' for
-- nothing more
-- Returns the row as a flat field/value array ('row'), the delivery target ('target',
-- when there is one), else 1; the error 'token' or 'unavailable' (no such account, or
-- disabled).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('token')
end
if ARGV[2] ~= 'row' then
  if redis.call('HGET', KEYS[2], 'status') ~= '1' then
    return redis.error_reply('unavailable')
  end
  if ARGV[2] == 'target' then
    return redis.call('GET', KEYS[3]) or 1
  end
  return 1
end
local flat = redis.call('HGETALL', KEYS[2])
for i = 1, #flat, 2 do
  if flat[i] == 'status' then
    if flat[i + 1] ~= '1' then
      return redis.error_reply('unavailable')
    end
    return flat
  end
end
return redis.error_reply('unavailable')
