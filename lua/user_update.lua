-- Changes columns of a user row, checks first, event after: every change of a `user`
-- row (login, password, profile, settings, a visitor becoming a user) goes through
-- here, so none can happen without its entity event.
-- KEYS[1] user: chat:user:{id}
-- KEYS[2] stream: chat:stream:entities (the user's partition's shard)
-- KEYS[3] token: chat_user_{id}
-- KEYS[4] names: chat:user:names (the username search index of the user's partition)
-- KEYS[5] private: chat:stream:private (the whole row, for the persister only)
-- KEYS[6] nicknames: chat:user:nicknames (kept when the nickname changes)
-- KEYS[7...] rename: for a rename, on one Redis chat:user:name:{new username} and
-- chat:user:name:{current username} (claimed and released here); on a tagged layout the
-- partition's chat:user:ids (username -> id; the claims are steps of their own,
-- user_claim.lua, before and after this)
-- ARGV[1] stream_cap: the hard cap (MAXLEN ~) of both streams
-- ARGV[2] require_active: '1' to require an active account (status 1), '0' to require
-- only that it exists
-- ARGV[3] password: the password hash the caller verified, or '' for no check
-- ARGV[4] token: a token to store as the account's only valid one, or ''
-- ARGV[5] username: a new username (claimed in `new_username`, `old_username`
-- released, when given), or ''
-- ARGV[6] claims: '1' when `rename` holds the claims (one Redis), '0' when it holds the
-- partition's ids
-- ARGV[7...] column, value: the columns to set
-- Returns the row as a flat field/value array, or the error 'unavailable' /
-- 'password_changed' / 'username_taken'.
--@include rows
local status = redis.call('HGET', KEYS[1], 'status')
if status == false or (ARGV[2] == '1' and status ~= '1') then
  return redis.error_reply('unavailable')
end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'password') ~= ARGV[3] then
  return redis.error_reply('password_changed')
end
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[5] ~= '' then
  local old = redis.call('HGET', KEYS[1], 'username')
  if ARGV[6] == '1' then
    if redis.call('SET', KEYS[7], id, 'NX') == false then
      return redis.error_reply('username_taken')
    end
    if redis.call('GET', KEYS[8]) == id then
      redis.call('DEL', KEYS[8])
    end
  elseif KEYS[7] then
    if redis.call('HGET', KEYS[7], old) == id then
      redis.call('HDEL', KEYS[7], old)
    end
    redis.call('HSET', KEYS[7], ARGV[5], id)
  end
  redis.call('ZREM', KEYS[4], old)
  redis.call('ZADD', KEYS[4], 0, ARGV[5])
  redis.call('HSET', KEYS[1], 'username', ARGV[5])
end
if #ARGV >= 8 then
  for i = 7, #ARGV - 1, 2 do
    if ARGV[i] == 'nickname' then
      local old = redis.call('HGET', KEYS[1], 'nickname') or ''
      if old ~= ARGV[i + 1] then
        redis.call('ZREM', KEYS[6], old .. '\0' .. id)
        if ARGV[i + 1] ~= '' then
          redis.call('ZADD', KEYS[6], 0, ARGV[i + 1] .. '\0' .. id)
        end
      end
    end
  end
  redis.call('HSET', KEYS[1], unpack(ARGV, 7))
end
local version = redis.call('HINCRBY', KEYS[1], '_v', 1)
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3], ARGV[4])
end

local flat = redis.call('HGETALL', KEYS[1])
local integers = { id = true, invite_confirm = true, status = true, is_deleted = true, order = true }
local row = {}
for i = 1, #flat, 2 do
  local column, value = flat[i], flat[i + 1]
  if column ~= '_v' then
    row[column] = integers[column] and tonumber(value) or value
  end
end
user_event(KEYS[2], KEYS[5], ARGV[1], 'upsert', row.id, version, row, cjson.encode(row))
return flat
