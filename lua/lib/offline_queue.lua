-- The offline queue chat_getmessage_{uid} (docs/architecture.md, *State in Redis*): a list,
-- oldest first, of entries that are either a whole message object (JSON text, '{…') or a
-- reference '@{n}' to a body in chat:offline:bodies. A message fanned out to several
-- offline users is stored there once, with its count of referring entries in field
-- '{n}:refs'; removing or trimming the last such entry removes the body (no TTL: a body
-- lives exactly as long as an entry refers to it). chat:offline:bytes keeps, per queue
-- key, the bytes of what the user would receive (bodies resolved), for the byte cap.

-- The queue settings the routing functions pass on to `enqueue`: the entry and byte caps
-- and the two shared hashes. nil when an argument is bad.
local function offline_settings(cap, byte_cap, bodies, sizes)
  cap, byte_cap = tonumber(cap), tonumber(byte_cap)
  if not cap or cap <= 0 or not byte_cap or byte_cap <= 0 or not bodies or not sizes then
    return nil
  end
  return {cap = cap, byte_cap = byte_cap, bodies = bodies, sizes = sizes}
end

-- The body id an entry refers to, or nil for a whole message object.
local function offline_reference(entry)
  if string.byte(entry, 1) == 64 then -- '@'
    return string.sub(entry, 2)
  end
  return nil
end

-- The bytes the user receives for an entry.
local function offline_entry_size(entry, bodies)
  local id = offline_reference(entry)
  if id then
    return redis.call('HSTRLEN', bodies, id)
  end
  return #entry
end

-- What an entry stands for: the message object, or false for a reference whose body is
-- gone (it cannot be, unless the keys were edited by hand).
local function offline_resolve(entry, bodies)
  local id = offline_reference(entry)
  if id then
    return redis.call('HGET', bodies, id)
  end
  return entry
end

-- Accounts for entries leaving a queue (written, trimmed or dropped by a cap): their
-- bytes, and one reference less for each body; the last reference removes the body.
local function offline_release(queue, entries, bodies, sizes)
  local bytes = 0
  for _, entry in ipairs(entries) do
    local id = offline_reference(entry)
    if id then
      bytes = bytes + redis.call('HSTRLEN', bodies, id)
      if redis.call('HINCRBY', bodies, id .. ':refs', -1) <= 0 then
        redis.call('HDEL', bodies, id, id .. ':refs')
      end
    else
      bytes = bytes + #entry
    end
  end
  if redis.call('LLEN', queue) == 0 then
    redis.call('HDEL', sizes, queue)
  elseif bytes > 0 then
    redis.call('HINCRBY', sizes, queue, -bytes)
  end
end

-- Drops the oldest entries while the queue is over either cap (it keeps its newest
-- entry whatever its size); returns how many were dropped.
local function offline_trim(queue, length, bytes, settings)
  local dropped = 0
  while length > settings.cap or (bytes > settings.byte_cap and length > 1) do
    local entry = redis.call('LPOP', queue)
    if not entry then break end
    local size = offline_entry_size(entry, settings.bodies)
    offline_release(queue, {entry}, settings.bodies, settings.sizes)
    length, bytes, dropped = length - 1, bytes - size, dropped + 1
  end
  return dropped
end

-- Appends `message` to an offline queue, capped by `settings` (offline_settings); returns
-- how many of the oldest entries the caps dropped. `sharers`: how many queues this
-- message goes to in this script run; with more than one, its body is stored once (on
-- the first call) and each queue gets a reference.
local function enqueue(queue, message, settings, sharers)
  local entry = message
  if sharers and sharers > 1 then
    if settings.shared_message ~= message then
      settings.shared_message = message
      settings.shared_id = tostring(redis.call('HINCRBY', settings.bodies, 'next', 1))
      redis.call('HSET', settings.bodies, settings.shared_id, message)
    end
    redis.call('HINCRBY', settings.bodies, settings.shared_id .. ':refs', 1)
    entry = '@' .. settings.shared_id
  end
  local length = redis.call('RPUSH', queue, entry)
  local bytes
  if length == 1 then
    -- a queue removed whole (by hand, or an old connect) left its count behind
    bytes = #message
    redis.call('HSET', settings.sizes, queue, bytes)
  else
    bytes = redis.call('HINCRBY', settings.sizes, queue, #message)
  end
  return offline_trim(queue, length, bytes, settings)
end

-- Puts entries back at the FRONT of a queue, in order (`entries[1]` becomes the head):
-- whole message objects a connection could not hand to the kernel, or entries as read.
-- Counted and capped like `enqueue`; when over a cap, the oldest are dropped as always
-- (here: some of these). Returns how many entries the caps dropped.
local function offline_push_front(queue, entries, settings)
  if #entries == 0 then return 0 end
  local bytes = 0
  local reversed = {}
  for i = #entries, 1, -1 do
    local entry = entries[i]
    local id = offline_reference(entry)
    if id then
      -- an entry as read: one more reference to a body that must still exist
      if redis.call('HEXISTS', settings.bodies, id) == 1 then
        redis.call('HINCRBY', settings.bodies, id .. ':refs', 1)
        bytes = bytes + redis.call('HSTRLEN', settings.bodies, id)
        reversed[#reversed + 1] = entry
      end
    else
      bytes = bytes + #entry
      reversed[#reversed + 1] = entry
    end
  end
  if #reversed == 0 then return 0 end
  local length = 0
  for first = 1, #reversed, 1000 do
    length = redis.call('LPUSH', queue, unpack(reversed, first, math.min(first + 999, #reversed)))
  end
  local total
  if length == #reversed then
    total = bytes
    redis.call('HSET', settings.sizes, queue, bytes)
  else
    total = redis.call('HINCRBY', settings.sizes, queue, bytes)
  end
  return offline_trim(queue, length, total, settings)
end

-- A fingerprint of an entry, for removing exactly the entries a flush wrote.
local function offline_fingerprint(entry)
  if offline_reference(entry) then
    return entry
  end
  return redis.sha1hex(entry)
end

-- The head of a queue for a flush, nothing removed: at most `count` entries and, past the
-- first, no more than about `budget` bytes of messages, references resolved; as
-- {fingerprint 1, message 1, …}, a message '' when its body is gone. In small ranges: a
-- whole range of large entries would be copied into the script at once.
local function offline_read_head(queue, bodies, count, budget)
  local result, bytes, index = {}, 0, 0
  while index < count and (index == 0 or bytes < budget) do
    local entries = redis.call('LRANGE', queue, index, index + math.min(count - index, 16) - 1)
    if #entries == 0 then break end
    for _, entry in ipairs(entries) do
      if index > 0 and bytes >= budget then break end
      local message = offline_resolve(entry, bodies) or ''
      result[#result + 1] = offline_fingerprint(entry)
      result[#result + 1] = message
      bytes, index = bytes + #message, index + 1
    end
    if #entries < 16 then break end
  end
  return result
end
