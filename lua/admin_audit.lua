-- An operator's action audited as a step of its own (docs/architecture.md, *Accounts on
-- partitions*): on a tagged layout the audit list and its counter share one slot (the
-- first partition's), apart from the row the action changed in its own partition's run.
-- KEYS[1] audit_ids: chat:id:admin_audit{p0}
-- KEYS[2] audit_list: chat:admin:audit{p0}
-- KEYS[3] private: chat:stream:private{p0}
-- ARGV[1] admin: the operator's name
-- ARGV[2] address: the operator's client address
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] stream_cap: the stream's hard cap (MAXLEN ~)
-- ARGV[5] action: e.g. 'user.edit'
-- ARGV[6] target_type: e.g. 'user'
-- ARGV[7] target_id: the target's id ('' for none: a dead letter's action)
-- ARGV[8] detail: JSON object
-- Returns the audit row's id, or the error 'bad_arguments'.
--@include audit
local ok, detail = pcall(cjson.decode, ARGV[8] or '')
if not ok or type(detail) ~= 'table' or (ARGV[1] or '') == '' or (ARGV[5] or '') == '' or not tonumber(ARGV[4]) then
  return redis.error_reply('bad_arguments')
end
return audit(KEYS[1], KEYS[2], KEYS[3], ARGV[4], ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[6], tonumber(ARGV[7]), detail)
