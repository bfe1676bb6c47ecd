-- Stored messages: the history lists and the messages stream.

-- Searches the history list `key` from its newest end, a page of 100 at a time, for the
-- entry of message `id`: at most the newest `limit` entries, or with `whole_pages` until
-- `limit` entries are read (the last page whole). Returns its index and entry, or nil.
local function find_message(key, id, limit, whole_pages)
  local prefix = '{"id":"' .. id .. '"'
  local stop = redis.call('LLEN', key) - 1
  local floor = whole_pages and 0 or math.max(0, stop + 1 - limit)
  local searched = 0
  while stop >= floor and searched < limit do
    local start = math.max(floor, stop - 99)
    local page = redis.call('LRANGE', key, start, stop)
    for i = #page, 1, -1 do
      if string.sub(page[i], 1, #prefix) == prefix then
        return start + i - 1, page[i]
      end
    end
    searched = searched + #page
    stop = start - 1
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
