--@include rows
-- Blocks (`block`, JSON in chat:blocks:{blocker}, field: the blocked uid): a fact of
-- its own, apart from the friendship rows, so that it outlives deleting and re-adding
-- the friendship and only the blocker lifts it (docs/api.md, *Blocks*). The blocker's
-- friendship row mirrors it in `isblack`.
local BLOCK = { 'id', 'user_id', 'blocked_id', 'create_time' }

-- Whether the owner of `blocks` (chat:blocks:{owner}) blocks `uid`.
local function blocks(key, uid)
  return redis.call('HEXISTS', key, uid) == 1
end

-- Blocks `blocked` for `blocker` (when it is not blocked already), the row's id taken
-- from `next_id()` only then (INCR chat:id:block in one script run on one Redis; an id
-- taken before the step where the counter is in another slot).
local function block_add(key, stream, cap, next_id, blocker, blocked, now)
  if blocks(key, blocked) then
    return
  end
  local row = { id = next_id(), user_id = tonumber(blocker), blocked_id = tonumber(blocked), create_time = now }
  redis.call('HSET', key, blocked, encode_row(row, BLOCK, 1))
  entity_event(stream, cap, 'block', 'upsert', row.id, 1, encode_row(row, BLOCK))
end

-- Lifts the block of `blocked` (when there is one).
local function block_remove(key, stream, cap, blocked)
  local json = redis.call('HGET', key, blocked)
  if not json then
    return
  end
  local row = cjson.decode(json)
  redis.call('HDEL', key, blocked)
  entity_event(stream, cap, 'block', 'delete', row.id, (row._v or 0) + 1, encode_row(row, BLOCK))
end
