-- An operator disables or enables a group (docs/console.md): its `status` (1 active, 0
-- disabled: the send and change scripts require 1), with the row's entity event `group`
-- and the audit row in the same step.
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
--@include rows
--@include groups
--@include audit
local admin, address, now, cap, gid, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if #KEYS ~= 5 or (admin or '') == '' or (now or '') == '' or not tonumber(cap) or not tonumber(gid)
  or (status ~= '0' and status ~= '1') then
  return redis.error_reply('bad_arguments')
end
local row = read_hash_row(KEYS[4], GROUP_INTEGERS)
if not row then
  return redis.error_reply('missing')
end
local version = (row._v or 0) + 1
row.status = tonumber(status)
row.update_time = now
redis.call('HSET', KEYS[4], 'status', status, 'update_time', now, '_v', version)
entity_event(KEYS[5], cap, 'group', 'upsert', row.id, version, encode_row(row, GROUP))
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, status == '1' and 'group.enable' or 'group.disable', 'group',
  tonumber(gid), {})
return version
