-- Rows as the API and the persister read them, and their entity events.

-- A row as JSON with `columns` in their order (cjson would order them at random); nil
-- and cjson.null are null, numbers and the columns in `integers` (a set, or nil) are
-- integers, anything else goes through cjson. `version`, when given, is added as `_v`
-- (the stored form; events carry the columns only).
local function encode_row(row, columns, version, integers)
  local parts = {}
  for i, column in ipairs(columns) do
    local value = row[column]
    local text
    if value == nil or value == cjson.null then
      text = 'null'
    elseif type(value) == 'number' or (integers and integers[column]) then
      text = string.format('%d', tonumber(value))
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

-- A row from its hash (nil when the hash is gone), the columns in `integers` (a set, or
-- nil) as numbers.
local function read_hash_row(key, integers)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then
    return nil
  end
  local row = {}
  for i = 1, #flat, 2 do
    local column, value = flat[i], flat[i + 1]
    row[column] = integers and integers[column] and tonumber(value) or value
  end
  return row
end

-- Appends an entity event (the persister's input) to `stream`, capped near `cap`; `v`
-- is the event's contract version (1 unless given).
local function entity_event(stream, cap, entity, change, id, version, row, v)
  redis.call('XADD', stream, 'MAXLEN', '~', cap, '*',
    'v', v or 1, 'entity', entity, 'op', change, 'id', id, 'version', version, 'row', row)
end

-- The `user` columns analytics may read (docs/streams.md, *chat:stream:entities*). A list of
-- what is allowed, not of what is not: a column added later stays private until someone
-- decides otherwise. Left out: `password` (the hash), `devicefingeruuid` (a device id
-- opens a visitor's account), `mobile`, `email`, `last_login_ip`, `register_ip`.
local USER_PUBLIC = {
  'id', 'uuid', 'username', 'nickname', 'avatar', 'uniplatform', 'devicemodel', 'deviceos', 'devicebrand',
  'userset', 'invite_confirm', 'status', 'last_login', 'register_time', 'is_deleted', 'role', 'order',
  'create_time', 'update_time',
}

-- A `user` row's event, twice: the whole row (`json`, its JSON text) on the private
-- stream, which only the persister reads (it writes the row to MariaDB from there), and
-- the public columns of `row` (a table; absent and cjson.null columns are null) on the
-- public stream as contract version 2 (version 1 carried the whole row there).
local function user_event(stream, private_stream, cap, change, id, version, row, json)
  entity_event(private_stream, cap, 'user', change, id, version, json)
  entity_event(stream, cap, 'user', change, id, version, encode_row(row, USER_PUBLIC), 2)
end
