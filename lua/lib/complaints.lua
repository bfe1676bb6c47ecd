-- The `chat_complaint` row's columns and its entity event, as complaint_change.lua and
-- complaint_reply.lua write them.
--@include rows
local COMPLAINT_COLUMNS = { 'id', 'user_id', 'target_id', 'target_type', 'target_name', 'reason', 'content', 'images',
  'complaint_chatinfo', 'status', 'admin_reply', 'create_time', 'update_time', 'is_deleted' }
local COMPLAINT_INTEGERS = { id = true, user_id = true, target_id = true, status = true, is_deleted = true }

local function complaint_event(stream, cap, row, version)
  entity_event(stream, cap, 'complaint', 'upsert', row.id, version,
    encode_row(row, COMPLAINT_COLUMNS, nil, COMPLAINT_INTEGERS))
end
