-- An operator disables or enables a group (docs/console.md): its `status` (1 active, 0
-- disabled: the send and change scripts require 1), with the row's entity event `group`
-- and the audit row in the same step. On a tagged layout `group_step` op status does the
-- row (and each member's active groups, in their partitions) and `admin_audit` the audit.
-- KEYS[1] audit_ids: chat:id:admin_audit
-- KEYS[2] audit_list: chat:admin:audit
-- KEYS[3] private: chat:stream:private
-- KEYS[4] group: chat:group:{gid}
-- KEYS[5] stream: chat:stream:entities
-- ARGV[1] admin: the operator's name
-- ARGV[2] address: the operator's client address
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] stream_cap: the streams' hard cap (MAXLEN ~)
-- ARGV[5] group_id: the gid
-- ARGV[6] status: '1' (enable) or '0' (disable)
-- Returns the row's new version. Errors: 'missing' (no such group), 'bad_arguments'.
-- Audit actions: group.disable, group.enable.
--@include groups
--@include audit
local admin, address, now, cap, gid, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if #KEYS ~= 5 or (admin or '') == '' or (now or '') == '' or not tonumber(cap) or not tonumber(gid)
  or (status ~= '0' and status ~= '1') then
  return redis.error_reply('bad_arguments')
end
local row = group_set_status({ group = KEYS[4], stream = KEYS[5], cap = cap, now = now }, status)
if not row then
  return redis.error_reply('missing')
end
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, status == '1' and 'group.enable' or 'group.disable', 'group',
  tonumber(gid), {})
return row._v
