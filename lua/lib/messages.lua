-- Stored messages: the history lists and the messages stream.

-- Every history list has an index beside it, the sorted set history .. ':ids': each
-- entry's message id, scored in list order, so that a message is found by ZREVRANK (its
-- distance from the newest end) and one LINDEX, never by scanning the list
-- (docs/architecture.md, *History index*). The send scripts keep it exact as they append
-- and trim (history_append); it is either exact (one member per entry, in list order) or
-- it no longer counts as many members as the list has entries, and then the first
-- lookup rebuilds it from the list (a history written before the index existed, or
-- changed behind the scripts' back): one scan, once.
--
-- A single chat's two histories are mirrors (every send appends the same entry to both,
-- with the same cap): only the lower uid's has an index (pair_indexed), and a lookup in
-- the other reads the same position, checked; lists that differ after all (an old
-- server's data) fall back to a scan of the unindexed one.
local function history_index(history)
  return history .. ':ids'
end

-- Of a single chat's histories `mine` (chatlog_{me}_single_{to}) and `theirs`, the one
-- with the index: the lower uid's.
local function pair_indexed(me, to, mine, theirs)
  if (tonumber(me) or 0) < (tonumber(to) or 0) then
    return mine
  end
  return theirs
end

-- The message id an entry starts with ('{"id":"…"', as the send scripts write it), or nil.
local function entry_id(entry)
  return string.match(entry, '^{"id":"([^"]*)"')
end

-- Appends `entry` (message `id`) to `history` and keeps the newest `cap` entries; with
-- `indexed`, also keeps the index exact (an index that was not exact is dropped, to be
-- rebuilt at the next lookup). Returns how many entries were trimmed.
-- The index was exact when, after the new id is added, it counts as many members as the
-- list entries. On a full history (every send trims) that count comes from the trim of
-- the index itself (it keeps the newest `cap` members: those removed are the count beyond
-- the cap), so a send costs the index ZRANGE, ZADD and ZREMRANGEBYRANK; below the cap,
-- ZCARD instead of the trim. Numbers go to Redis as strings (a Lua number argument is
-- formatted with printf by Redis).
local function history_append(history, entry, id, cap, indexed)
  local length = redis.call('RPUSH', history, entry)
  local trimmed = length > cap and length - cap or 0
  if trimmed > 0 then
    redis.call('LTRIM', history, tostring(trimmed), '-1')
  end
  if indexed then
    local index = history_index(history)
    local last = redis.call('ZRANGE', index, '-1', '-1', 'WITHSCORES')
    local added = false
    if last[2] or length == 1 then
      local sequence = last[2] and tostring(tonumber(last[2]) + 1) or '1'
      added = redis.call('ZADD', index, 'NX', sequence, id) == 1
    end
    local exact
    if not added then
      exact = false
    elseif trimmed > 0 then
      exact = redis.call('ZREMRANGEBYRANK', index, '0', tostring(-1 - cap)) == trimmed
    else
      exact = redis.call('ZCARD', index) == length
    end
    if not exact and (added or last[2]) then
      redis.call('DEL', index)
    end
  end
  return trimmed
end

-- Rebuilds the index of `history` (`length` entries) from the list: the one scan, a page
-- at a time from the newest end, scored by position. An entry without an id, or with the
-- id of a newer one, gets a placeholder member ("\0" and its score; no message id holds
-- a NUL), so the index counts every entry and stays exact.
local function index_rebuild(history, index, length)
  redis.call('DEL', index)
  local stop = length - 1
  while stop >= 0 do
    local start = math.max(0, stop - 99)
    local page = redis.call('LRANGE', history, start, stop)
    for i = #page, 1, -1 do
      local score = start + i
      local id = entry_id(page[i])
      if not id or redis.call('ZADD', index, 'NX', score, id) == 0 then
        redis.call('ZADD', index, score, '\0' .. score)
      end
    end
    stop = start - 1
  end
end

-- Searches the newest `limit` entries of `history` for message `id`, a page of 100 at a
-- time from the newest end: only for a mirror that differs from its indexed twin.
local function scan_message(history, id, limit)
  local stop = redis.call('LLEN', history) - 1
  local floor = math.max(0, stop + 1 - limit)
  while stop >= floor do
    local start = math.max(floor, stop - 99)
    local page = redis.call('LRANGE', history, start, stop)
    for i = #page, 1, -1 do
      if entry_id(page[i]) == id then
        return start + i - 1, page[i]
      end
    end
    stop = start - 1
  end
  return nil
end

-- Finds message `id` among the newest `limit` entries of `history`, through the index
-- of `indexed` (`history` itself, or its single-chat mirror). Returns its list index and
-- entry, or nil (trimmed, or never there).
local function find_message(history, id, limit, indexed)
  indexed = indexed or history
  local index = history_index(indexed)
  local length = redis.call('LLEN', indexed)
  if redis.call('ZCARD', index) ~= length then
    index_rebuild(indexed, index, length)
  end
  for attempt = 1, 2 do
    local fromNewest = redis.call('ZREVRANK', index, id)
    if not fromNewest or fromNewest >= limit then
      return nil
    end
    local entry = redis.call('LINDEX', history, -1 - fromNewest)
    if entry and entry_id(entry) == id then
      return redis.call('LLEN', history) - 1 - fromNewest, entry
    end
    if indexed ~= history then
      return scan_message(history, id, limit)
    end
    -- As many members as entries, but not the same ones (the list was changed behind
    -- the scripts' back): rebuilt, and looked up once more.
    if attempt == 1 then
      index_rebuild(history, index, length)
    end
  end
  return nil
end

-- Appends a message entry ('message' or 'revoke') to the messages stream, capped near `cap`.
local function message_event(stream, cap, kind, id, chat_type, message_type, from_id, to_id, from_name, from_avatar,
                             to_name, to_avatar, data, options, now, isremove)
  redis.call('XADD', stream, 'MAXLEN', '~', cap, '*',
    'v', '1', 'kind', kind, 'id', id, 'chat_type', chat_type, 'type', message_type,
    'from_id', from_id, 'to_id', to_id, 'from_name', from_name, 'from_avatar', from_avatar,
    'to_name', to_name, 'to_avatar', to_avatar, 'data', data, 'options', options,
    'create_time', now, 'isremove', isremove)
end
