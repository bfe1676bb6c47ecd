-- The `group` row's columns, as group_update.lua and group_status.lua write them.
local GROUP = { 'id', 'uuid', 'user_id', 'name', 'avatar', 'remark', 'invite_confirm', 'status', 'order',
  'create_time', 'update_time' }
local GROUP_INTEGERS = { id = true, user_id = true, invite_confirm = true, status = true, order = true, _v = true }
