-- Friend requests and the friendships they create (API.md, *Friends*): applyfriend,
-- autoAddFriendAndAgree and handleapply. Everything is checked before the first write
-- (Redis does not roll a script back), and every row written or deleted appends its
-- entity event in this same script.
--
-- A pair has at most one `goodfriendapply` row per direction: chat:apply:pair:{from}:{to}
-- holds its id. A new request after a refused or ignored one deletes the old row. A
-- friendship is two `goodfriend` rows, JSON in chat:friends:{owner} (field: the friend's
-- uid); a row that exists is never written again here, so agreeing twice, or agreeing to
-- two crossing requests, creates each direction once.
--
-- ARGV[1] op  ARGV[2] stream hard cap (MAXLEN ~)  ARGV[3] now ('YYYY-MM-DD HH:mm:ss')
--
-- op 'apply' (a pending request) and 'auto' (an agreed request plus both rows):
--   KEYS[1] chat:user:{to}  KEYS[2] chat:apply:pair:{me}:{to}  KEYS[3] chat:apply:{new id}
--   KEYS[4] chat:apply:to:{to}  KEYS[5] chat:apply:pending:{to}  KEYS[6] chat:stream:entities
--   'auto' only: KEYS[7] chat:friends:{me}  KEYS[8] chat:friends:{to}  KEYS[9] chat:quota:{me}
--   KEYS[10] chat:quota:{to}
--   last, when ARGV[8] is not '': chat:apply:{ARGV[8]}
--   ARGV[4] me  ARGV[5] to  ARGV[6] new request id  ARGV[7] the request's nickname
--   ARGV[8] the request id KEYS[2] held when the caller read it, or ''
--   'auto' only: ARGV[9] row id me→to  ARGV[10] row id to→me  ARGV[11] my nickname
--   (to→me's remark; me→to's is '')
-- op 'handle' (a pending request to me gets a status; 'agree' creates the missing rows):
--   KEYS[1] chat:apply:{id}  KEYS[2] chat:apply:pending:{me}  KEYS[3] chat:stream:entities
--   KEYS[4] chat:friends:{me}  KEYS[5] chat:friends:{applicant}  KEYS[6] chat:quota:{me}
--   KEYS[7] chat:quota:{applicant}
--   ARGV[4] me  ARGV[5] applicant  ARGV[6] status  ARGV[7] my remark for the applicant
--   ARGV[8] my nickname (the applicant's remark for me)
--   ARGV[9] row id me→applicant  ARGV[10] row id applicant→me ('agree' only)
--
-- Errors: 'missing' (apply/auto: the target is gone or disabled; handle: no pending
-- request with that id to me), 'duplicate' (a pending or agreed request from me to them),
-- 'needs_confirm' (auto: the target's invite_confirm is not 0), 'stale' (the pair key
-- changed since the caller read it: read again and retry), 'bad_arguments'.
-- Returns: apply: the new request id. auto and agree: {rows created (0-2), my row JSON,
-- their row JSON}. Other statuses: {0}.
local op, cap, now = ARGV[1], ARGV[2], ARGV[3]
if not tonumber(cap) or (now or '') == '' then
  return redis.error_reply('bad_arguments')
end

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
    elseif value == nil then
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

local function event(stream, entity, change, id, version, row)
  redis.call('XADD', stream, 'MAXLEN', '~', cap, '*',
    'v', 1, 'entity', entity, 'op', change, 'id', id, 'version', version, 'row', row)
end

-- A request row from its hash, integers as numbers; nil when the hash is gone.
local function read_request(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then
    return nil
  end
  local row = {}
  for i = 1, #flat, 2 do
    local column, value = flat[i], flat[i + 1]
    row[column] = (REQUEST_INTEGERS[column] or column == '_v') and tonumber(value) or value
  end
  return row
end

local function write_request(stream, key, row)
  local fields = {}
  for _, column in ipairs(REQUEST) do
    if row[column] ~= nil then
      fields[#fields + 1] = column
      fields[#fields + 1] = row[column]
    end
  end
  redis.call('HSET', key, '_v', row._v, unpack(fields))
  event(stream, 'goodfriendapply', 'upsert', row.id, row._v, encode(row, REQUEST))
end

local function delete_request(stream, key, row, to_zset, pending_zset)
  redis.call('DEL', key)
  redis.call('ZREM', to_zset, row.id)
  redis.call('ZREM', pending_zset, row.id)
  event(stream, 'goodfriendapply', 'delete', row.id, (row._v or 0) + 1, encode(row, REQUEST))
end

-- The row `owner` keeps for `friend`: the existing one, else a new one. Returns its
-- JSON and whether it was created.
local function befriend(stream, key, id, owner, friend, remark)
  local existing = redis.call('HGET', key, friend)
  if existing then
    return existing, false
  end
  local row = {
    id = tonumber(id), user_id = tonumber(owner), friend_id = tonumber(friend), nickname = remark,
    friendlookme = 1, melookfriend = 1, ismystarfriend = 0, isblack = 0, status = 1, order = 50,
    create_time = now, update_time = now,
  }
  local json = encode(row, FRIEND, 1)
  redis.call('HSET', key, friend, json)
  event(stream, 'goodfriend', 'upsert', row.id, 1, encode(row, FRIEND))
  return json, true
end

-- Both rows of a friendship; a new friendship starts the pair's pre-friendship message
-- counters over (they count again only once the friendship ends).
local function befriend_both(stream, a, b, a_key, b_key, a_quota, b_quota, a_row_id, b_row_id, a_remark, b_remark)
  local a_json, a_created = befriend(stream, a_key, a_row_id, a, b, a_remark)
  local b_json, b_created = befriend(stream, b_key, b_row_id, b, a, b_remark)
  local created = (a_created and 1 or 0) + (b_created and 1 or 0)
  if created > 0 then
    redis.call('HDEL', a_quota, b)
    redis.call('HDEL', b_quota, a)
  end
  return { created, a_json, b_json }
end

if op == 'apply' or op == 'auto' then
  local me, to, new_id, nickname, old_id = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
  local auto = op == 'auto'
  local key_count = (auto and 10 or 6) + ((old_id or '') ~= '' and 1 or 0)
  if #KEYS ~= key_count or me == '' or to == '' or me == to or new_id == '' or old_id == nil
    or (auto and ((ARGV[9] or '') == '' or (ARGV[10] or '') == '' or ARGV[11] == nil)) then
    return redis.error_reply('bad_arguments')
  end
  local target = redis.call('HMGET', KEYS[1], 'status', 'invite_confirm')
  if target[1] ~= '1' then
    return redis.error_reply('missing')
  end
  if auto and (target[2] or '0') ~= '0' then
    return redis.error_reply('needs_confirm')
  end
  if (redis.call('GET', KEYS[2]) or '') ~= old_id then
    return redis.error_reply('stale')
  end
  local old_key = KEYS[#KEYS]
  local old = old_id ~= '' and read_request(old_key) or nil
  if old and (old.status == 'pending' or old.status == 'agree') then
    return redis.error_reply('duplicate')
  end

  local stream = KEYS[6]
  if old then
    delete_request(stream, old_key, old, KEYS[4], KEYS[5])
  end
  local status = auto and 'agree' or 'pending'
  write_request(stream, KEYS[3], {
    id = tonumber(new_id), user_id = tonumber(me), friend_id = tonumber(to), nickname = nickname,
    status = status, order = 50, create_time = now, update_time = now, _v = 1,
  })
  redis.call('SET', KEYS[2], new_id)
  redis.call('ZADD', KEYS[4], new_id, new_id)
  if not auto then
    redis.call('ZADD', KEYS[5], new_id, new_id)
    return tonumber(new_id)
  end
  return befriend_both(stream, me, to, KEYS[7], KEYS[8], KEYS[9], KEYS[10], ARGV[9], ARGV[10], '', ARGV[11])
end

if op == 'handle' then
  local me, applicant, status = ARGV[4], ARGV[5], ARGV[6]
  local statuses = { pending = true, refuse = true, agree = true, ignore = true }
  if #KEYS ~= 7 or me == '' or applicant == '' or not statuses[status] or ARGV[7] == nil or ARGV[8] == nil
    or (status == 'agree' and ((ARGV[9] or '') == '' or (ARGV[10] or '') == '')) then
    return redis.error_reply('bad_arguments')
  end
  local request = read_request(KEYS[1])
  if not request or request.status ~= 'pending' or request.friend_id ~= tonumber(me)
    or request.user_id ~= tonumber(applicant) then
    return redis.error_reply('missing')
  end

  local stream = KEYS[3]
  request.status = status
  request.update_time = now
  request._v = (request._v or 0) + 1
  write_request(stream, KEYS[1], request)
  if status ~= 'pending' then
    redis.call('ZREM', KEYS[2], request.id)
  end
  if status ~= 'agree' then
    return { 0 }
  end
  return befriend_both(stream, me, applicant, KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[9], ARGV[10], ARGV[7], ARGV[8])
end

return redis.error_reply('bad_arguments')
