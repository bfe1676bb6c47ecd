-- An operator replays or drops a dead letter (docs/console.md): an entry the persister
-- gave up on (chat:stream:deadletter: `stream`, `entry`, `attempts`, `error`,
-- `consumer`, the original fields as `field.{name}`). Replay appends the original fields
-- to the original stream again (a new entry: the persister's writes are idempotent) and
-- removes the dead letter; drop only removes it. Audited with the stream, the original
-- entry and the error (never the fields: a private entry's are secrets).
-- KEYS[1] audit_ids: chat:id:admin_audit
-- KEYS[2] audit_list: chat:admin:audit
-- KEYS[3] private: chat:stream:private
-- KEYS[4] deadletter: chat:stream:deadletter
-- ARGV[1] op: 'replay' or 'drop'
-- ARGV[2] admin: the operator's name
-- ARGV[3] address: the operator's client address
-- ARGV[4] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[5] stream_cap: the streams' hard cap (MAXLEN ~)
-- ARGV[6] entry: the dead letter's entry id
-- @op replay
-- KEYS[5] target: the entry's original stream (its `stream` field), one of
-- chat:stream:entities, chat:stream:messages, chat:stream:private
-- @op drop: the common keys and arguments only
-- @end
--
-- Returns {'replayed', new entry id} or {'dropped'}. Errors: 'missing' (no such dead
-- letter), 'stale' (replay: its stream is not `target`), 'bad_arguments'. Audit actions:
-- deadletter.replay, deadletter.drop.
--@include audit
local op, admin, address, now, cap, entry = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local REPLAYABLE = { ['chat:stream:entities'] = true, ['chat:stream:messages'] = true, ['chat:stream:private'] = true }
if (op ~= 'replay' and op ~= 'drop') or #KEYS ~= (op == 'replay' and 5 or 4) or (admin or '') == ''
  or (now or '') == '' or not tonumber(cap) or not string.match(entry or '', '^%d+%-%d+$')
  or (op == 'replay' and not REPLAYABLE[KEYS[5]]) then
  return redis.error_reply('bad_arguments')
end
local found = redis.call('XRANGE', KEYS[4], entry, entry)
if #found == 0 then
  return redis.error_reply('missing')
end
local stream, original, error_text, fields = nil, nil, nil, {}
local flat = found[1][2]
for i = 1, #flat, 2 do
  local name, value = flat[i], flat[i + 1]
  if name == 'stream' then
    stream = value
  elseif name == 'entry' then
    original = value
  elseif name == 'error' then
    error_text = value
  elseif string.sub(name, 1, 6) == 'field.' then
    fields[#fields + 1] = string.sub(name, 7)
    fields[#fields + 1] = value
  end
end
local detail = { stream = stream, entry = original, error = error_text, deadletter = entry }
local reply
if op == 'replay' then
  if stream ~= KEYS[5] or #fields == 0 then
    return redis.error_reply('stale')
  end
  local id = redis.call('XADD', KEYS[5], 'MAXLEN', '~', cap, '*', unpack(fields))
  detail.replayed = id
  reply = { 'replayed', id }
else
  reply = { 'dropped' }
end
redis.call('XDEL', KEYS[4], entry)
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, 'deadletter.' .. op, 'deadletter', nil, detail)
return reply
