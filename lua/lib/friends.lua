--@include rows
--@include blocks
-- Friendship rows (`goodfriend`, JSON in chat:friends:{owner}) and friend requests
-- (`goodfriendapply`, the hash chat:apply:{id}), in the columns' order, and the changes
-- of one user's side of them. A friendship between users of two partitions is changed in
-- steps, one per partition (docs/architecture.md, *Redis Cluster: partitions and steps*):
-- each function here touches the keys of one user only, so that the one-partition scripts
-- (friend_request, friend_update) and the steps (friend_step) share them.
local FRIEND = { 'id', 'user_id', 'friend_id', 'nickname', 'friendlookme', 'melookfriend', 'ismystarfriend',
  'isblack', 'status', 'order', 'create_time', 'update_time' }
local REQUEST = { 'id', 'user_id', 'friend_id', 'nickname', 'status', 'order', 'create_time', 'update_time' }
local REQUEST_INTEGERS = { id = true, user_id = true, friend_id = true, order = true, _v = true }

-- A request row from its hash, integers as numbers; nil when the hash is gone.
local function read_request(key)
  return read_hash_row(key, REQUEST_INTEGERS)
end

local function write_request(stream, cap, key, row)
  local fields = {}
  for _, column in ipairs(REQUEST) do
    if row[column] ~= nil then
      fields[#fields + 1] = column
      fields[#fields + 1] = row[column]
    end
  end
  redis.call('HSET', key, '_v', row._v, unpack(fields))
  entity_event(stream, cap, 'goodfriendapply', 'upsert', row.id, row._v, encode_row(row, REQUEST))
end

local function delete_request(stream, cap, key, row, to_zset, pending_zset)
  redis.call('DEL', key)
  redis.call('ZREM', to_zset, row.id)
  redis.call('ZREM', pending_zset, row.id)
  entity_event(stream, cap, 'goodfriendapply', 'delete', row.id, (row._v or 0) + 1, encode_row(row, REQUEST))
end

-- The row `owner` keeps for `friend` (chat:friends:{owner}): the existing one, else a new
-- one, blacklisted when `blocks_key` (chat:blocks:{owner}) blocks the friend. Returns
-- its JSON and whether it was created.
local function befriend(stream, cap, now, key, blocks_key, id, owner, friend, remark)
  local existing = redis.call('HGET', key, friend)
  if existing then
    return existing, false
  end
  local row = {
    id = tonumber(id), user_id = tonumber(owner), friend_id = tonumber(friend), nickname = remark,
    friendlookme = 1, melookfriend = 1, ismystarfriend = 0, isblack = blocks(blocks_key, friend) and 1 or 0, status = 1,
    order = 50, create_time = now, update_time = now,
  }
  local json = encode_row(row, FRIEND, 1)
  redis.call('HSET', key, friend, json)
  entity_event(stream, cap, 'goodfriend', 'upsert', row.id, 1, encode_row(row, FRIEND))
  return json, true
end

-- Both rows of a friendship (users of one partition); a new friendship starts the pair's
-- pre-friendship message counters over (they count again only once the friendship ends).
local function befriend_both(stream, cap, now, a, b, a_key, b_key, a_quota, b_quota, a_row_id, b_row_id, a_remark,
    b_remark, a_blocks, b_blocks)
  local a_json, a_created = befriend(stream, cap, now, a_key, a_blocks, a_row_id, a, b, a_remark)
  local b_json, b_created = befriend(stream, cap, now, b_key, b_blocks, b_row_id, b, a, b_remark)
  local created = (a_created and 1 or 0) + (b_created and 1 or 0)
  if created > 0 then
    redis.call('HDEL', a_quota, b)
    redis.call('HDEL', b_quota, a)
  end
  return { created, a_json, b_json }
end

-- A new request from `me` to `to` (`auto`: already agreed), checked against the target's
-- row and blocks and the pair's current request, all in the target's partition. Returns
-- nil, or an error code and nothing written.
local function request_checks(target_key, their_blocks, pair_key, request_key, me, old_id, auto)
  local target = redis.call('HMGET', target_key, 'status', 'invite_confirm')
  if target[1] ~= '1' then
    return 'missing'
  end
  if blocks(their_blocks, me) then
    return 'blocked'
  end
  if auto and (target[2] or '0') ~= '0' then
    return 'needs_confirm'
  end
  if (redis.call('GET', pair_key) or '') ~= old_id then
    return 'stale'
  end
  if redis.call('EXISTS', request_key) == 1 then
    return 'id_taken'
  end
  return nil
end

-- Writes the new request (after request_checks), replacing the old one (`old`: its row,
-- which must not be pending or agreed: checked by the caller).
local function request_write(stream, cap, now, keys, me, to, new_id, nickname, old, auto)
  if old then
    delete_request(stream, cap, keys.old, old, keys.to_requests, keys.pending)
  end
  write_request(stream, cap, keys.request, {
    id = tonumber(new_id), user_id = tonumber(me), friend_id = tonumber(to), nickname = nickname,
    status = auto and 'agree' or 'pending', order = 50, create_time = now, update_time = now, _v = 1,
  })
  redis.call('SET', keys.pair, new_id)
  redis.call('ZADD', keys.to_requests, new_id, new_id)
  if not auto then
    redis.call('ZADD', keys.pending, new_id, new_id)
  end
end

-- Deleting a friendship, a side at a time (`owner`'s keys only). The row `owner` keeps for
-- `other`, or nil.
local function friend_row(friends_key, other)
  local json = redis.call('HGET', friends_key, other)
  return json and cjson.decode(json) or nil
end

-- A row blacklisted before blocks existed becomes a block (`next_block_id()` gives its id).
local function block_if_blacklisted(stream, cap, now, blocks_key, next_block_id, owner, other, row)
  if row and row.isblack == 1 then
    block_add(blocks_key, stream, cap, next_block_id, owner, other, now)
  end
end

local function delete_friend_row(stream, cap, friends_key, other, row)
  redis.call('HDEL', friends_key, other)
  entity_event(stream, cap, 'goodfriend', 'delete', row.id, (row._v or 0) + 1, encode_row(row, FRIEND))
end

-- The request `request_id` ('' for none; its row at `request_key`), with its pair key and its
-- places in the recipient's lists.
local function delete_pair_request(stream, cap, request_key, request_id, pair_key, to_zset, pending_zset)
  if request_id == '' then
    return
  end
  local request = read_request(request_key)
  if request then
    redis.call('DEL', request_key)
    entity_event(stream, cap, 'goodfriendapply', 'delete', request.id, (request._v or 0) + 1, encode_row(request, REQUEST))
  end
  redis.call('DEL', pair_key)
  redis.call('ZREM', to_zset, request_id)
  redis.call('ZREM', pending_zset, request_id)
end

-- One user's whole side (a step of its own when the users are in two partitions): its row
-- (a block when it was blacklisted) and the request from `other` to `owner`.
local function unfriend_side(stream, cap, now, friends_key, blocks_key, next_block_id, owner, other,
    pair_key, to_zset, pending_zset, request_key, request_id)
  local row = friend_row(friends_key, other)
  block_if_blacklisted(stream, cap, now, blocks_key, next_block_id, owner, other, row)
  if row then
    delete_friend_row(stream, cap, friends_key, other, row)
  end
  delete_pair_request(stream, cap, request_key, request_id, pair_key, to_zset, pending_zset)
end

-- setblackgoodfriend (`owner`'s keys only): toggles the block of `friend` and `isblack` of
-- the row, which mirrors it: blocked when either says so (a row blacklisted before blocks
-- existed), so the toggle lifts both, or sets both. Without a row, a block is lifted.
-- Returns nil, or 'missing' (no row, no block) and nothing written.
local function toggle_black(stream, cap, now, friends_key, blocks_key, next_block_id, owner, friend)
  local json = redis.call('HGET', friends_key, friend)
  local row = json and cjson.decode(json) or nil
  local blocked = blocks(blocks_key, friend) or (row ~= nil and row.isblack == 1)
  if not row and not blocked then
    return 'missing'
  end
  if blocked then
    block_remove(blocks_key, stream, cap, friend)
  else
    block_add(blocks_key, stream, cap, next_block_id, owner, friend, now)
  end
  if row then
    row.isblack = blocked and 0 or 1
    row.update_time = now
    row._v = (row._v or 0) + 1
    redis.call('HSET', friends_key, friend, encode_row(row, FRIEND, row._v))
    entity_event(stream, cap, 'goodfriend', 'upsert', row.id, row._v, encode_row(row, FRIEND))
  end
  return nil
end
