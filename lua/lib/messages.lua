-- Stored messages: the history lists and the messages stream.

-- Every history list has an index beside it, the sorted set history .. ':ids': each
-- entry's message id, scored in list order, so that a message is found by ZREVRANK (its
-- distance from the newest end) and one LINDEX, never by scanning the list
-- (docs/architecture.md, *History index*). The send scripts keep it exact as they append
-- and trim (history_append); it is either exact (one member per entry, in list order) or
-- it no longer counts as many members as the list has entries, and then the first
-- lookup rebuilds it from the list (a history written before the index existed, or
-- changed behind the scripts' back): one scan, once.
local function history_index(history)
  return history .. ':ids'
end

-- The message id an entry starts with ('{"id":"…"', as the send scripts write it), or nil.
local function entry_id(entry)
  return string.match(entry, '^{"id":"([^"]*)"')
end

-- Appends `entry` (message `id`) to `history`, keeps the newest `cap` entries and keeps
-- the index exact; an index that was not exact is dropped (rebuilt at the next lookup).
-- Returns how many entries were trimmed.
local function history_append(history, entry, id, cap)
  local index = history_index(history)
  local indexed = redis.call('ZCARD', index)
  local length = redis.call('RPUSH', history, entry)
  local exact = indexed == length - 1
  if exact then
    local sequence = 1
    if indexed > 0 then
      sequence = tonumber(redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')[2]) + 1
    end
    exact = redis.call('ZADD', index, 'NX', sequence, id) == 1
  end
  if not exact and indexed > 0 then
    redis.call('DEL', index)
  end
  if length <= cap then
    return 0
  end
  local trimmed = length - cap
  redis.call('LTRIM', history, trimmed, -1)
  if exact then
    redis.call('ZREMRANGEBYRANK', index, 0, trimmed - 1)
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

-- Finds message `id` in the history list `history` through its index, among the newest
-- `limit` entries. Returns its list index and entry, or nil (trimmed, or never there).
local function find_message(history, id, limit)
  local index = history_index(history)
  local length = redis.call('LLEN', history)
  if redis.call('ZCARD', index) ~= length then
    index_rebuild(history, index, length)
  end
  for attempt = 1, 2 do
    local fromNewest = redis.call('ZREVRANK', index, id)
    if not fromNewest or fromNewest >= limit then
      return nil
    end
    local entry = redis.call('LINDEX', history, -1 - fromNewest)
    if entry and entry_id(entry) == id then
      return length - 1 - fromNewest, entry
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
    'v', 1, 'kind', kind, 'id', id, 'chat_type', chat_type, 'type', message_type,
    'from_id', from_id, 'to_id', to_id, 'from_name', from_name, 'from_avatar', from_avatar,
    'to_name', to_name, 'to_avatar', to_avatar, 'data', data, 'options', options,
    'create_time', now, 'isremove', isremove)
end
