-- Question/answer pairs for automatic replies (docs/api.md, *Complaints and Q&A*): create,
-- update and delete an `askanswer` row of mine, each with its entity event `askanswer`
-- in this same script. A user's rows are JSON in the hash chat:user:{uid}:askanswers
-- (field: the row id) with `_v`, their version, so that the auto reply reads them all
-- with one HVALS; chat:askanswer:{id} holds the owner's uid. Every key is in the owner's
-- partition (a reader by id asks every partition's chat:askanswer:{id}).
--
-- KEYS[1] rows: chat:user:{me}:askanswers
-- KEYS[2] owner: chat:askanswer:{id}
-- KEYS[3] stream: chat:stream:entities
-- ARGV[1] op: 'create', 'update' or 'delete'
-- ARGV[2] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] me: my id
-- ARGV[5] id: the row id
-- @op create
-- ARGV[6] ask: the question
-- ARGV[7] answer: the answer
-- ARGV[8] type: the row's type
-- ARGV[9] limit: how many rows a user may have
-- @op update
-- ARGV[6] changes: JSON object of the columns to set (ask, answer, type)
-- @op delete: no more arguments
-- @end
--
-- Errors: 'missing' (no such row of mine), 'full' (create: the user has the cap of rows
-- already), 'id_taken' (create: a row with the new id exists; never overwritten),
-- 'bad_arguments'. Returns the row's JSON (delete: as it was).
--@include rows
local op, cap, now, me, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local COLUMNS = { 'id', 'user_id', 'ask', 'answer', 'type', 'create_time', 'update_time' }
local UPDATABLE = { ask = true, answer = true, type = true }

if #KEYS ~= 3 or not tonumber(cap) or (now or '') == '' or not tonumber(me) or not tonumber(id) then
  return redis.error_reply('bad_arguments')
end

local function event(change, row, version)
  entity_event(KEYS[3], cap, 'askanswer', change, row.id, version, encode_row(row, COLUMNS))
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
  if redis.call('HEXISTS', KEYS[1], id) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
    return redis.error_reply('id_taken')
  end
  if redis.call('HLEN', KEYS[1]) >= limit then
    return redis.error_reply('full')
  end
  local row = {
    id = tonumber(id), user_id = tonumber(me), ask = ask, answer = answer, type = kind,
    create_time = now, update_time = now,
  }
  local json = encode_row(row, COLUMNS, 1)
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
  local json = encode_row(row, COLUMNS, version)
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
  return encode_row(row, COLUMNS, row._v or 0)
end

return redis.error_reply('bad_arguments')
