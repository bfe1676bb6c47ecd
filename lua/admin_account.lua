-- An operators' console account (docs/console.md), from the command line: created,
-- its password reset, disabled or enabled. The row is the hash chat:admin:{name}
-- (`id`, `name`, `password` (bcrypt), `status` 1/0, `create_time`, `update_time`, `_v`),
-- listed in chat:admins (score = id); its entity event `admin` (the whole row, the hash
-- included) goes to the private stream only, like the whole `user` row. Audited.
-- On a tagged layout every key here carries the audit's tag (partition 0's: the
-- accounts live in the audit's slot), so the change and its audit row stay one run.
-- KEYS[1] audit_ids: chat:id:admin_audit
-- KEYS[2] audit_list: chat:admin:audit
-- KEYS[3] private: chat:stream:private
-- KEYS[4] account: chat:admin:{name}
-- KEYS[5] admins: chat:admins
-- KEYS[6] admin_ids: chat:id:admin
-- ARGV[1] admin: who acts ('cli' from the command line)
-- ARGV[2] address: where from ('' from the command line)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] stream_cap: the private stream's hard cap (MAXLEN ~)
-- ARGV[5] name: the account's name
-- ARGV[6] password: the new bcrypt hash, or '' to keep it
-- ARGV[7] status: '1' or '0', or '' to keep it (a new account is enabled)
-- Returns {result, id}: result 'created' (a new account: a password is required),
-- 'reset' (a new password), 'disabled' or 'enabled'. Errors: 'missing' (no such
-- account, and no password to create it with), 'bad_name' (a name is 1 to 64 letters,
-- digits, '_', '.', '-', and not 'audit': chat:admin:audit is the audit list),
-- 'bad_arguments'.
--@include audit
local admin, address, now, cap = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local name, password, status = ARGV[5], ARGV[6], ARGV[7]
if #KEYS ~= 6 or (admin or '') == '' or (now or '') == '' or not tonumber(cap) or (name or '') == ''
  or (status ~= '' and status ~= '0' and status ~= '1') or (password == '' and status == '') then
  return redis.error_reply('bad_arguments')
end

if #name > 64 or not string.match(name, '^[%w_%.%-]+$') or name == 'audit' then
  return redis.error_reply('bad_name')
end

local COLUMNS = { 'id', 'name', 'password', 'status', 'create_time', 'update_time' }
local INTEGERS = { id = true, status = true }

local row = read_hash_row(KEYS[4])
local result, action
if not row then
  if password == '' then
    return redis.error_reply('missing')
  end
  row = { id = redis.call('INCR', KEYS[6]), name = name, password = password, status = status == '' and '1' or status,
    create_time = now, _v = '0' }
  result, action = 'created', 'admin.create'
elseif password ~= '' then
  row.password = password
  if status ~= '' then row.status = status end
  result, action = 'reset', 'admin.reset'
else
  row.status = status
  result = status == '1' and 'enabled' or 'disabled'
  action = 'admin.' .. (status == '1' and 'enable' or 'disable')
end
row.update_time = now
local version = tonumber(row._v or '0') + 1
redis.call('HSET', KEYS[4], 'id', row.id, 'name', name, 'password', row.password, 'status', row.status,
  'create_time', row.create_time, 'update_time', now, '_v', version)
redis.call('ZADD', KEYS[5], row.id, name)
entity_event(KEYS[3], cap, 'admin', 'upsert', row.id, version, encode_row(row, COLUMNS, nil, INTEGERS))
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, action, 'admin', tonumber(row.id),
  { name = name, status = tonumber(row.status) })
return { result, tonumber(row.id) }
