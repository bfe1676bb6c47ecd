-- A registration's partition step, written once: `user_register` (one Redis: the claims,
-- then this, in one run) and `user_register_rows` (a tagged layout: this alone, in the
-- user's partition, after the claims' own runs) call it.
--@include rows

-- Writes a JSON row as a hash with `_v` 1 (null columns left out).
local function write_row(key, json)
  local row = cjson.decode(json)
  local fields = {}
  for column, value in pairs(row) do
    if value ~= cjson.null then
      fields[#fields + 1] = column
      fields[#fields + 1] = tostring(value)
    end
  end
  redis.call('DEL', key)
  redis.call('HSET', key, '_v', 1, unpack(fields))
end

-- The `user` and `user_info` rows of a new account, its indexes (the usernames; every
-- id; the nickname; on a tagged layout `ids`, username -> id) and the rows' entity
-- events. Returns the decoded user row.
local function write_account(user_key, info_key, names, users, nicknames, stream, private, cap, id, info_id,
                             user_json, info_json, ids)
  local user = cjson.decode(user_json)
  redis.call('ZADD', names, 0, user.username)
  if ids then
    redis.call('HSET', ids, user.username, id)
  end
  redis.call('ZADD', users, id, id)
  if type(user.nickname) == 'string' and user.nickname ~= '' then
    redis.call('ZADD', nicknames, 0, user.nickname .. '\0' .. id)
  end
  write_row(user_key, user_json)
  write_row(info_key, info_json)
  user_event(stream, private, cap, 'upsert', id, 1, user, user_json)
  entity_event(stream, cap, 'user_info', 'upsert', info_id, 1, info_json)
  return user
end
