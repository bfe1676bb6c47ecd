-- Changes of friendships (API.md, *Friends*): setblackgoodfriend, setstargoodfriend,
-- setmeOrfriendCanSee and deletegoodfriend. Checks first, then the writes, each with its
-- entity event in this same script. Rows are JSON in chat:friends:{owner} (field: the
-- friend's uid) with `_v`, their version.
--
-- ARGV[1] op  ARGV[2] stream hard cap (MAXLEN ~)  ARGV[3] now ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] the friend's uid
-- KEYS[1] chat:friends:{me}  KEYS[2] chat:stream:entities
--
-- op 'black': toggles isblack of my row. 'star': toggles ismystarfriend of my row, which
-- must not be blacklisted. 'see': sets friendlookme = ARGV[5], melookfriend = ARGV[6]
-- (each 0 or 1) on my row, which must not be blacklisted.
-- op 'delete': deletes both rows and both directions' requests.
--   KEYS[3] chat:friends:{friend}  KEYS[4] chat:apply:pair:{me}:{friend}
--   KEYS[5] chat:apply:pair:{friend}:{me}  KEYS[6] chat:apply:to:{friend}
--   KEYS[7] chat:apply:pending:{friend}  KEYS[8] chat:apply:to:{me}  KEYS[9] chat:apply:pending:{me}
--   then chat:apply:{ARGV[6]} when ARGV[6] is not '', then chat:apply:{ARGV[7]} when
--   ARGV[7] is not ''
--   ARGV[5] me  ARGV[6] / ARGV[7] the request ids KEYS[4] / KEYS[5] held when the caller
--   read them, or ''
--
-- Errors: 'missing' (no row of mine for that friend; star and see: or it is
-- blacklisted), 'stale' (a pair key changed since the caller read it: read again and
-- retry), 'bad_arguments'. Returns 'OK'.
local op, cap, now, friend = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local FRIEND = { 'id', 'user_id', 'friend_id', 'nickname', 'friendlookme', 'melookfriend', 'ismystarfriend',
  'isblack', 'status', 'order', 'create_time', 'update_time' }
local REQUEST = { 'id', 'user_id', 'friend_id', 'nickname', 'status', 'order', 'create_time', 'update_time' }
local REQUEST_INTEGERS = { id = true, user_id = true, friend_id = true, order = true }

-- JSON with the columns in the API's order (cjson would order them at random). Kept the
-- same in friend_request.lua and friend_update.lua: a script cannot include another.
local function encode(row, columns, version)
  local parts = {}
  for i, column in ipairs(columns) do
    local value = row[column]
    local text
    if type(value) == 'number' then
      text = string.format('%d', value)
    elseif value == nil or value == cjson.null then
      text = 'null'
    else
      text = cjson.encode(value)
    end
    parts[i] = cjson.encode(column) .. ':' .. text
  end
  if version then
    parts[#parts + 1] = '"_v":' .. string.format('%d', version)
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

local function event(entity, change, id, version, row)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', cap, '*',
    'v', 1, 'entity', entity, 'op', change, 'id', id, 'version', version, 'row', row)
end

local function read_row(key)
  local json = redis.call('HGET', key, friend)
  return json and cjson.decode(json) or nil
end

local function delete_row(key, field, row)
  redis.call('HDEL', key, field)
  event('goodfriend', 'delete', row.id, (row._v or 0) + 1, encode(row, FRIEND))
end

if not tonumber(cap) or (now or '') == '' or (friend or '') == '' then
  return redis.error_reply('bad_arguments')
end

if op == 'black' or op == 'star' or op == 'see' then
  local lookme, lookfriend = tonumber(ARGV[5]), tonumber(ARGV[6])
  if #KEYS ~= 2 or (op == 'see' and (not (lookme == 0 or lookme == 1) or not (lookfriend == 0 or lookfriend == 1))) then
    return redis.error_reply('bad_arguments')
  end
  local row = read_row(KEYS[1])
  if not row or (op ~= 'black' and row.isblack ~= 0) then
    return redis.error_reply('missing')
  end
  if op == 'black' then
    row.isblack = row.isblack == 1 and 0 or 1
  elseif op == 'star' then
    row.ismystarfriend = row.ismystarfriend == 1 and 0 or 1
  else
    row.friendlookme, row.melookfriend = lookme, lookfriend
  end
  row.update_time = now
  row._v = (row._v or 0) + 1
  redis.call('HSET', KEYS[1], friend, encode(row, FRIEND, row._v))
  event('goodfriend', 'upsert', row.id, row._v, encode(row, FRIEND))
  return redis.status_reply('OK')
end

if op == 'delete' then
  local me, mine_id, theirs_id = ARGV[5], ARGV[6], ARGV[7]
  if me == nil or me == '' or me == friend or mine_id == nil or theirs_id == nil
    or #KEYS ~= 9 + (mine_id ~= '' and 1 or 0) + (theirs_id ~= '' and 1 or 0) then
    return redis.error_reply('bad_arguments')
  end
  local mine = read_row(KEYS[1])
  if not mine then
    return redis.error_reply('missing')
  end
  if (redis.call('GET', KEYS[4]) or '') ~= mine_id or (redis.call('GET', KEYS[5]) or '') ~= theirs_id then
    return redis.error_reply('stale')
  end
  local theirs = redis.call('HGET', KEYS[3], me)
  theirs = theirs and cjson.decode(theirs)

  delete_row(KEYS[1], friend, mine)
  if theirs then
    delete_row(KEYS[3], me, theirs)
  end
  -- The requests: mine to them (in their lists), theirs to me (in mine).
  local next_key = 10
  local requests = {
    { id = mine_id, pair = KEYS[4], to = KEYS[6], pending = KEYS[7] },
    { id = theirs_id, pair = KEYS[5], to = KEYS[8], pending = KEYS[9] },
  }
  for _, request in ipairs(requests) do
    if request.id ~= '' then
      local key = KEYS[next_key]
      next_key = next_key + 1
      local flat = redis.call('HGETALL', key)
      if #flat > 0 then
        local row = {}
        for i = 1, #flat, 2 do
          local column, value = flat[i], flat[i + 1]
          row[column] = (REQUEST_INTEGERS[column] or column == '_v') and tonumber(value) or value
        end
        redis.call('DEL', key)
        event('goodfriendapply', 'delete', row.id, (row._v or 0) + 1, encode(row, REQUEST))
      end
      redis.call('DEL', request.pair)
      redis.call('ZREM', request.to, request.id)
      redis.call('ZREM', request.pending, request.id)
    end
  end
  return redis.status_reply('OK')
end

return redis.error_reply('bad_arguments')
