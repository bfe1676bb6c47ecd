-- The `group` row's columns, as group_update.lua and group_status.lua write them.
--@include rows
local GROUP = { 'id', 'uuid', 'user_id', 'name', 'avatar', 'remark', 'invite_confirm', 'status', 'order',
  'create_time', 'update_time' }
local GROUP_INTEGERS = { id = true, user_id = true, invite_confirm = true, status = true, order = true, _v = true }

-- An operator's status of the group ('1' active, '0' disabled): the row and its event.
-- Returns the row (nil when there is no group).
local function group_set_status(g, status)
  local row = read_hash_row(g.group, GROUP_INTEGERS)
  if not row then
    return nil
  end
  local version = (row._v or 0) + 1
  row.status = tonumber(status)
  row.update_time = g.now
  row._v = version
  redis.call('HSET', g.group, 'status', status, 'update_time', g.now, '_v', version)
  entity_event(g.stream, g.cap, 'group', 'upsert', row.id, version, encode_row(row, GROUP))
  return row
end
