-- Complaints (docs/api.md, *Complaints and Q&A*): create, update and (soft) delete a
-- `chat_complaint` row, each with its entity event `complaint` in this same script.
-- A row is the hash chat:complaint:{id} (its columns; NULL columns absent) plus `_v`,
-- its version; chat:user:{uid}:complaints holds the ids of the user's rows not deleted
-- (score = id). Every key is in the reporter's partition. A deleted row stays with is_deleted 1 (its event is an upsert: the
-- persister keeps the row in MariaDB too).
--
-- ARGV[1] op: 'create', 'update' or 'delete'
-- ARGV[2] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] me: my id
-- ARGV[5] id: the complaint id
-- @op create
-- KEYS[1] complaint: chat:complaint:{id}
-- KEYS[2] mine: chat:user:{me}:complaints
-- KEYS[3] stream: chat:stream:entities
-- KEYS[4] target: the target's row (chat:user:{id} or chat:group:{id}); on a partitioned
-- layout, when the target is in another partition, my own row chat:user:{me} (the caller
-- found the target's row before: a check that need not be atomic with the insert)
-- KEYS[5] all: chat:complaints (every complaint id of the partition, for the operators' console)
-- KEYS[6] open: chat:complaints:status:0 (the ids by status; complaint_reply moves them)
-- ARGV[6] target_id: target_id
-- ARGV[7] target_type: target_type ('single' or 'group')
-- ARGV[8] reason: reason
-- ARGV[9] optional: JSON object of the optional text columns given (target_name,
-- content, images, complaint_chatinfo)
-- ARGV[10] limit: how many complaints not deleted a user may have
-- @op update
-- KEYS[1] complaint: chat:complaint:{id}
-- KEYS[2] stream: chat:stream:entities
-- ARGV[6] changes: JSON object of the columns to set (content, images)
-- @op delete
-- KEYS[1] complaint: chat:complaint:{id}
-- KEYS[2] mine: chat:user:{me}:complaints
-- KEYS[3] stream: chat:stream:entities
-- @end
--
-- Errors: 'missing' (no such row of mine, or deleted), 'processing' (update: status is
-- not 0 any more), 'target' (create: no such user or group), 'full' (create: the user
-- has the cap of complaints already), 'id_taken' (create: a row with the new id exists;
-- never overwritten), 'bad_arguments'. Returns the row's new version.
--@include complaints
local op, cap, now, me, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local OPTIONAL = { target_name = true, content = true, images = true, complaint_chatinfo = true }
local UPDATABLE = { content = true, images = true }

if not tonumber(cap) or (now or '') == '' or not tonumber(me) or not tonumber(id) then
  return redis.error_reply('bad_arguments')
end

local function event(stream, row, version)
  complaint_event(stream, cap, row, version)
end

-- A JSON object of text columns, each allowed by `allowed`; nil when malformed.
local function columns(json, allowed)
  local ok, decoded = pcall(cjson.decode, json or '')
  if not ok or type(decoded) ~= 'table' then
    return nil
  end
  for column, value in pairs(decoded) do
    if not allowed[column] or type(value) ~= 'string' then
      return nil
    end
  end
  return decoded
end

-- My row, not deleted; nil otherwise.
local function mine(key)
  local row = read_hash_row(key)
  if not row or row.user_id ~= me or row.is_deleted ~= '0' then
    return nil
  end
  return row
end

local function save(key, row, changed)
  local version = tonumber(row._v or '0') + 1
  local fields = { '_v', version, 'update_time', now }
  for _, column in ipairs(changed) do
    fields[#fields + 1] = column
    fields[#fields + 1] = row[column]
  end
  row.update_time = now
  redis.call('HSET', key, unpack(fields))
  return version
end

if op == 'create' then
  local target_id, target_type, reason, limit = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[10])
  local optional = columns(ARGV[9], OPTIONAL)
  if #KEYS ~= 6 or not tonumber(target_id) or (target_type ~= 'group' and target_type ~= 'single')
    or (reason or '') == '' or not optional or not limit then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.error_reply('id_taken')
  end
  if redis.call('EXISTS', KEYS[4]) == 0 then
    return redis.error_reply('target')
  end
  if redis.call('ZCARD', KEYS[2]) >= limit then
    return redis.error_reply('full')
  end
  local row = {
    id = id, user_id = me, target_id = target_id, target_type = target_type, reason = reason, status = '0',
    create_time = now, update_time = now, is_deleted = '0',
  }
  local fields = { '_v', 1 }
  for _, column in ipairs(COMPLAINT_COLUMNS) do
    if OPTIONAL[column] then
      row[column] = optional[column]
    end
    if row[column] ~= nil then
      fields[#fields + 1] = column
      fields[#fields + 1] = row[column]
    end
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('ZADD', KEYS[2], id, id)
  redis.call('ZADD', KEYS[5], id, id)
  redis.call('ZADD', KEYS[6], id, id)
  event(KEYS[3], row, 1)
  return 1
end

if op == 'update' then
  local changes = columns(ARGV[6], UPDATABLE)
  if #KEYS ~= 2 or not changes or next(changes) == nil then
    return redis.error_reply('bad_arguments')
  end
  local row = mine(KEYS[1])
  if not row then
    return redis.error_reply('missing')
  end
  if row.status ~= '0' then
    return redis.error_reply('processing')
  end
  local changed = {}
  for column, value in pairs(changes) do
    row[column] = value
    changed[#changed + 1] = column
  end
  local version = save(KEYS[1], row, changed)
  event(KEYS[2], row, version)
  return version
end

if op == 'delete' then
  if #KEYS ~= 3 then
    return redis.error_reply('bad_arguments')
  end
  local row = mine(KEYS[1])
  if not row then
    return redis.error_reply('missing')
  end
  row.is_deleted = '1'
  local version = save(KEYS[1], row, { 'is_deleted' })
  redis.call('ZREM', KEYS[2], id)
  event(KEYS[3], row, version)
  return version
end

return redis.error_reply('bad_arguments')
