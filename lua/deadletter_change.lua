-- An operator replays or drops a dead letter (docs/console.md): an entry the persister
-- gave up on (chat:stream:deadletter: `stream`, `entry`, `attempts`, `error`,
-- `consumer`, the original fields as `field.{name}`). Replay appends the original fields
-- to the original stream again (a new entry: the persister's writes are idempotent) and
-- removes the dead letter; drop only removes it. Audited with the stream, the original
-- entry and the error (never the fields: a private entry's are secrets).
-- The original stream is one of the three the scripts write, or a shard of one
-- (`chat:stream:messages{p3}` on a tagged layout). On a tagged layout the dead letters,
-- the shard and the audit are three slots: the caller appends the fields to the shard
-- first (XADD, the shard's own slot), then this run removes the dead letter (`steps`),
-- then the audit row is a step of its own (`admin_audit`).
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
-- ARGV[7] steps: '1' on a tagged layout: the three audit keys (and a replay's `target`)
-- repeat `deadletter` and are not written; the reply carries the audit's action and
-- detail. Else '0'
-- @op replay
-- KEYS[5] target: the entry's original stream (its `stream` field), one of
-- chat:stream:entities, chat:stream:messages, chat:stream:private or a shard of one;
-- with steps, `deadletter` again (the caller appended the entry already)
-- ARGV[8] stream: with steps, the stream the caller appended the fields to ('' without)
-- ARGV[9] replayed: with steps, the id of the entry the caller appended ('' without)
-- @op drop: the common keys and arguments only
-- @end
--
-- Returns {'replayed', new entry id} or {'dropped'}; with steps {'replayed', id, action,
-- detail (JSON)} or {'dropped', action, detail (JSON)}. Errors: 'missing' (no such dead
-- letter), 'stale' (replay: its stream is not `target`), 'bad_arguments'. Audit actions:
-- deadletter.replay, deadletter.drop.
--@include audit
local op, admin, address, now, cap, entry = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local steps = ARGV[7] == '1'
local REPLAYABLE = { ['chat:stream:entities'] = true, ['chat:stream:messages'] = true, ['chat:stream:private'] = true }
-- A stream the scripts write, or its shard: the name with a partition's tag after it.
local function replayable(name)
  return REPLAYABLE[name] or REPLAYABLE[string.match(name or '', '^(.-){[^{}]+}$') or ''] or false
end
local target = op == 'replay' and (steps and ARGV[8] or KEYS[5]) or nil
if (op ~= 'replay' and op ~= 'drop') or #KEYS ~= (op == 'replay' and 5 or 4) or (admin or '') == ''
  or (now or '') == '' or not tonumber(cap) or not string.match(entry or '', '^%d+%-%d+$')
  or (op == 'replay' and not replayable(target))
  or (op == 'replay' and steps and not string.match(ARGV[9] or '', '^%d+%-%d+$')) then
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
  if stream ~= target or #fields == 0 then
    return redis.error_reply('stale')
  end
  local id = steps and ARGV[9] or redis.call('XADD', target, 'MAXLEN', '~', cap, '*', unpack(fields))
  detail.replayed = id
  reply = { 'replayed', id }
else
  reply = { 'dropped' }
end
redis.call('XDEL', KEYS[4], entry)
if steps then
  reply[#reply + 1] = 'deadletter.' .. op
  reply[#reply + 1] = cjson.encode(detail)
  return reply
end
audit(KEYS[1], KEYS[2], KEYS[3], cap, admin, address, now, 'deadletter.' .. op, 'deadletter', nil, detail)
return reply
