-- Question/answer pairs for automatic replies (API.md, *Complaints and Q&A*): create,
-- update and delete an `askanswer` row of mine, each with its entity event `askanswer`
-- in this same script. A user's rows are JSON in the hash chat:user:{uid}:askanswers
-- (field: the row id) with `_v`, their version, so that the auto reply reads them all
-- with one HVALS; chat:askanswer:{id} holds the owner's uid.
--
-- ARGV[1] op  ARGV[2] stream hard cap (MAXLEN ~)  ARGV[3] now ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] me  ARGV[5] the row id
-- KEYS[1] chat:user:{me}:askanswers  KEYS[2] chat:askanswer:{id}  KEYS[3] chat:stream:entities
--
-- op 'create': ARGV[6] ask  ARGV[7] answer  ARGV[8] type  ARGV[9] how many rows a user
--   may have
-- op 'update': ARGV[6] JSON object of the columns to set (ask, answer, type)
-- op 'delete'
--
-- Errors: 'missing' (no such row of mine), 'full' (create: the user has the cap of rows
-- already), 'bad_arguments'. Returns the row's JSON (delete: as it was).
local op, cap, now, me, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local COLUMNS = { 'id', 'user_id', 'ask', 'answer', 'type', 'create_time', 'update_time' }
local UPDATABLE = { ask = true, answer = true, type = true }

if #KEYS ~= 3 or not tonumber(cap) or (now or '') == '' or not tonumber(me) or not tonumber(id) then
  return redis.error_reply('bad_arguments')
end

-- The row as JSON with the table's columns in order (cjson would order them at random),
-- plus `_v` when `version` is given (the stored form; events carry the columns only).
-- The same as friend_request.lua's: a script cannot include another.
local function encode(row, version)
  local parts = {}
  for i, column in ipairs(COLUMNS) do
    local value = row[column]
    local text
    if type(value) == 'number' then
      text = string.format('%d', value)
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

local function event(change, row, version)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', cap, '*',
    'v', 1, 'entity', 'askanswer', 'op', change, 'id', row.id, 'version', version, 'row', encode(row))
end

local function mine()
  local json = redis.call('HGET', KEYS[1], id)
  return json and cjson.decode(json) or nil
end

if op == 'create' then
  local ask, answer, kind, limit = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
  if (ask or '') == '' or (answer or '') == '' or kind == nil or not limit then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('HLEN', KEYS[1]) >= limit then
    return redis.error_reply('full')
  end
  local row = {
    id = tonumber(id), user_id = tonumber(me), ask = ask, answer = answer, type = kind,
    create_time = now, update_time = now,
  }
  local json = encode(row, 1)
  redis.call('HSET', KEYS[1], id, json)
  redis.call('SET', KEYS[2], me)
  event('upsert', row, 1)
  return json
end

if op == 'update' then
  local ok, changes = pcall(cjson.decode, ARGV[6] or '')
  if not ok or type(changes) ~= 'table' or next(changes) == nil then
    return redis.error_reply('bad_arguments')
  end
  for column, value in pairs(changes) do
    if not UPDATABLE[column] or type(value) ~= 'string' or (value == '' and column ~= 'type') then
      return redis.error_reply('bad_arguments')
    end
  end
  local row = mine()
  if not row then
    return redis.error_reply('missing')
  end
  for column, value in pairs(changes) do
    row[column] = value
  end
  row.update_time = now
  local version = (row._v or 0) + 1
  local json = encode(row, version)
  redis.call('HSET', KEYS[1], id, json)
  event('upsert', row, version)
  return json
end

if op == 'delete' then
  local row = mine()
  if not row then
    return redis.error_reply('missing')
  end
  redis.call('HDEL', KEYS[1], id)
  redis.call('DEL', KEYS[2])
  event('delete', row, (row._v or 0) + 1)
  return encode(row, row._v or 0)
end

return redis.error_reply('bad_arguments')
