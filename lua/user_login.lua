-- Logs an account in: checks it is still active and its password hash is still the one
-- the bridge verified, records the login (and a rehashed password), stores the token as
-- the account's only valid one, and appends the user entity event.
-- KEYS[1] chat:user:{id}  KEYS[2] chat_user_{id}  KEYS[3] chat:stream:entities
-- ARGV[1] token  ARGV[2] last_login  ARGV[3] update_time  ARGV[4] verified password hash
-- ARGV[5] new password hash, or '' to keep it  ARGV[6] stream hard cap (MAXLEN ~)
-- Returns the row as a flat field/value array, or the error 'disabled' / 'password_changed'.
if redis.call('HGET', KEYS[1], 'status') ~= '1' then
  return redis.error_reply('disabled')
end
if redis.call('HGET', KEYS[1], 'password') ~= ARGV[4] then
  return redis.error_reply('password_changed')
end
redis.call('HSET', KEYS[1], 'last_login', ARGV[2], 'update_time', ARGV[3])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'password', ARGV[5])
end
local version = redis.call('HINCRBY', KEYS[1], '_v', 1)
redis.call('SET', KEYS[2], ARGV[1])

local flat = redis.call('HGETALL', KEYS[1])
local integers = { id = true, invite_confirm = true, status = true, is_deleted = true, order = true }
local row = {}
for i = 1, #flat, 2 do
  local column, value = flat[i], flat[i + 1]
  if column ~= '_v' then
    row[column] = integers[column] and tonumber(value) or value
  end
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*',
  'v', 1, 'entity', 'user', 'op', 'upsert', 'id', row.id, 'version', version, 'row', cjson.encode(row))
return flat
