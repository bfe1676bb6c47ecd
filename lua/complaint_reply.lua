-- An operator handles a complaint (docs/console.md): its `status` (0 待处理, 1 处理中,
-- 2 已处理, 3 已关闭) and `admin_reply`, which the reporter reads through the complaint
-- detail. The id moves between the status indexes; the row's entity event `complaint`
-- (as complaint_change.lua's) and the audit row in the same step. A complaint its
-- reporter deleted can still be answered (it stays listed for the operators).
-- On a tagged layout every key but the audit's is the reporter's partition's, and the
-- audit row is a step of its own (`admin_audit`, after this run).
-- KEYS[1] audit_ids: chat:id:admin_audit
-- KEYS[2] audit_list: chat:admin:audit
-- KEYS[3] private: chat:stream:private
-- KEYS[4] complaint: chat:complaint:{id}
-- KEYS[5] stream: chat:stream:entities
-- KEYS[6] status_0: chat:complaints:status:0
-- KEYS[7] status_1: chat:complaints:status:1
-- KEYS[8] status_2: chat:complaints:status:2
-- KEYS[9] status_3: chat:complaints:status:3
-- ARGV[1] admin: the operator's name
-- ARGV[2] address: the operator's client address
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] stream_cap: the streams' hard cap (MAXLEN ~)
-- ARGV[5] id: the complaint id
-- ARGV[6] status: the new status, 0 to 3
-- ARGV[7] reply: the admin_reply text ('' for none)
-- ARGV[8] steps: '1' on a tagged layout: the audit row is a step of its own (the three
-- audit keys then repeat `stream`, the partition's shard, and are not written; the reply
-- carries the audit's action and detail), else '0'
-- Returns the row's new version; with steps {version, action, detail (JSON)} for the
-- audit step. Errors: 'missing' (no such complaint), 'bad_arguments'. Audit action:
-- complaint.reply.
--@include complaints
--@include audit
local admin, address, now, cap, id, status, reply = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local steps = ARGV[8] == '1'
if #KEYS ~= 9 or (admin or '') == '' or (now or '') == '' or not tonumber(cap) or not tonumber(id)
  or not status or status < 0 or status > 3 or status % 1 ~= 0 or reply == nil then
  return redis.error_reply('bad_arguments')
end
local row = read_hash_row(KEYS[4])
if not row then
  return redis.error_reply('missing')
end
local old = tonumber(row.status) or 0
local version = tonumber(row._v or '0') + 1
row.status = string.format('%d', status)
row.admin_reply = reply
row.update_time = now
redis.call('HSET', KEYS[4], 'status', row.status, 'admin_reply', reply, 'update_time', now, '_v', version)
if old >= 0 and old <= 3 then
  redis.call('ZREM', KEYS[6 + old], id)
end
redis.call('ZADD', KEYS[6 + status], id, id)
complaint_event(KEYS[5], cap, row, version)
local detail = { from = old, status = status, reply = reply }
if steps then
  return { version, 'complaint.reply', cjson.encode(detail) }
end
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, 'complaint.reply', 'complaint', tonumber(id), detail)
return version
