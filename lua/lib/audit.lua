-- The operators' audit trail (docs/architecture.md, *Operators' console*): one row per
-- action, written by the script that makes the change. Its durable record is the
-- `admin_audit` entity event on the private stream (the persister writes it to MariaDB);
-- the list keeps the newest rows as JSON for the console's audit page.
--@include rows

local AUDIT_COLUMNS = { 'id', 'admin', 'action', 'target_type', 'target_id', 'detail', 'address', 'create_time' }
local AUDIT_INTEGERS = { id = true, target_id = true }
-- Rows the audit list keeps (the newest first).
local AUDIT_KEPT = 10000

-- Appends an audit row: `ids` is the id counter (chat:id:admin_audit), `list` the
-- newest rows (chat:admin:audit), `private` the private entity stream capped near `cap`.
-- `target_id` may be nil; `detail` is a table (encoded as JSON text, never a secret).
-- Returns the row's id.
local function audit(ids, list, private, cap, admin, address, now, action, target_type, target_id, detail)
  local id = redis.call('INCR', ids)
  local row = {
    id = id, admin = admin, action = action, target_type = target_type, target_id = target_id,
    detail = cjson.encode(detail or {}), address = address, create_time = now,
  }
  local json = encode_row(row, AUDIT_COLUMNS, nil, AUDIT_INTEGERS)
  entity_event(private, cap, 'admin_audit', 'upsert', id, 1, json)
  redis.call('LPUSH', list, json)
  redis.call('LTRIM', list, 0, AUDIT_KEPT - 1)
  return id
end
