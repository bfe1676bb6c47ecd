-- Changes of friendships (docs/api.md, *Friends*): setblackgoodfriend, setstargoodfriend,
-- setmeOrfriendCanSee and deletegoodfriend. Checks first, then the writes, each with its
-- entity event in this same script. Rows are JSON in chat:friends:{owner} (field: the
-- friend's uid) with `_v`, their version.
--
-- KEYS[1] my_friends: chat:friends:{me}
-- KEYS[2] stream: chat:stream:entities
-- ARGV[1] op: 'black', 'star', 'see' or 'delete'
-- ARGV[2] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] friend: the friend's uid
--
-- op 'black': toggles my block of the friend (lib/blocks.lua), a fact of its own, and
-- `isblack` of my row, which mirrors it: blocked when either says so (a row blacklisted
-- before blocks existed), so the toggle lifts both, or sets both. Without a row of mine,
-- a block of mine is lifted (the friendship was deleted, the block stays); nothing to
-- lift: 'missing'. 'star': toggles ismystarfriend of my row, which must not be
-- blacklisted. 'see': sets friendlookme and melookfriend (each 0 or 1) on my row, which
-- must not be blacklisted. 'delete': deletes both rows and both directions' requests;
-- blocks stay, and a row blacklisted before blocks existed becomes a block here (its
-- `isblack` was the only record of it).
-- @op black
-- KEYS[3] my_blocks: chat:blocks:{me}
-- KEYS[4] block_ids: chat:id:block (a new block's id)
-- ARGV[5] me: my id
-- @op star: no more keys or arguments
-- @op see
-- ARGV[5] friend_look_me: friendlookme, 0 or 1
-- ARGV[6] me_look_friend: melookfriend, 0 or 1
-- @op delete
-- KEYS[3] their_friends: chat:friends:{friend}
-- KEYS[4] my_pair: chat:apply:pair:{me}:{friend}
-- KEYS[5] their_pair: chat:apply:pair:{friend}:{me}
-- KEYS[6] their_to_requests: chat:apply:to:{friend}
-- KEYS[7] their_pending: chat:apply:pending:{friend}
-- KEYS[8] my_to_requests: chat:apply:to:{me}
-- KEYS[9] my_pending: chat:apply:pending:{me}
-- KEYS[10] my_blocks: chat:blocks:{me}
-- KEYS[11] their_blocks: chat:blocks:{friend}
-- KEYS[12] block_ids: chat:id:block (a new block's id)
-- KEYS[13...] request: chat:apply:{id} for my_request_id then their_request_id, each
-- when it is not ''
-- ARGV[5] me: my id
-- ARGV[6] my_request_id: the request id `my_pair` held when the caller read it, or ''
-- ARGV[7] their_request_id: the request id `their_pair` held when the caller read it, or ''
-- @end
--
-- Errors: 'missing' (no row of mine for that friend, and for black no block either;
-- star and see: or it is blacklisted), 'stale' (a pair key changed since the caller read
-- it: read again and retry), 'bad_arguments'. Returns 'OK'.
--@include friends
--@include blocks
local op, cap, now, friend = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local function read_row(key)
  local json = redis.call('HGET', key, friend)
  return json and cjson.decode(json) or nil
end

local function delete_row(key, field, row)
  redis.call('HDEL', key, field)
  entity_event(KEYS[2], cap, 'goodfriend', 'delete', row.id, (row._v or 0) + 1, encode_row(row, FRIEND))
end

if not tonumber(cap) or (now or '') == '' or (friend or '') == '' then
  return redis.error_reply('bad_arguments')
end

if op == 'black' then
  local me = ARGV[5]
  if #KEYS ~= 4 or not tonumber(me) then
    return redis.error_reply('bad_arguments')
  end
  local row = read_row(KEYS[1])
  local blocked = blocks(KEYS[3], friend) or (row ~= nil and row.isblack == 1)
  if not row and not blocked then
    return redis.error_reply('missing')
  end
  if blocked then
    block_remove(KEYS[3], KEYS[2], cap, friend)
  else
    block_add(KEYS[3], KEYS[2], cap, KEYS[4], me, friend, now)
  end
  if row then
    row.isblack = blocked and 0 or 1
    row.update_time = now
    row._v = (row._v or 0) + 1
    redis.call('HSET', KEYS[1], friend, encode_row(row, FRIEND, row._v))
    entity_event(KEYS[2], cap, 'goodfriend', 'upsert', row.id, row._v, encode_row(row, FRIEND))
  end
  return redis.status_reply('OK')
end

if op == 'star' or op == 'see' then
  local lookme, lookfriend = tonumber(ARGV[5]), tonumber(ARGV[6])
  if #KEYS ~= 2 or (op == 'see' and (not (lookme == 0 or lookme == 1) or not (lookfriend == 0 or lookfriend == 1))) then
    return redis.error_reply('bad_arguments')
  end
  local row = read_row(KEYS[1])
  if not row or row.isblack ~= 0 then
    return redis.error_reply('missing')
  end
  if op == 'star' then
    row.ismystarfriend = row.ismystarfriend == 1 and 0 or 1
  else
    row.friendlookme, row.melookfriend = lookme, lookfriend
  end
  row.update_time = now
  row._v = (row._v or 0) + 1
  redis.call('HSET', KEYS[1], friend, encode_row(row, FRIEND, row._v))
  entity_event(KEYS[2], cap, 'goodfriend', 'upsert', row.id, row._v, encode_row(row, FRIEND))
  return redis.status_reply('OK')
end

if op == 'delete' then
  local me, mine_id, theirs_id = ARGV[5], ARGV[6], ARGV[7]
  if me == nil or me == '' or me == friend or mine_id == nil or theirs_id == nil
    or #KEYS ~= 12 + (mine_id ~= '' and 1 or 0) + (theirs_id ~= '' and 1 or 0) then
    return redis.error_reply('bad_arguments')
  end
  local mine = read_row(KEYS[1])
  if not mine then
    return redis.error_reply('missing')
  end
  if (redis.call('GET', KEYS[4]) or '') ~= mine_id or (redis.call('GET', KEYS[5]) or '') ~= theirs_id then
    return redis.error_reply('stale')
  end
  local theirs = redis.call('HGET', KEYS[3], me)
  theirs = theirs and cjson.decode(theirs)

  if mine.isblack == 1 then
    block_add(KEYS[10], KEYS[2], cap, KEYS[12], me, friend, now)
  end
  if theirs and theirs.isblack == 1 then
    block_add(KEYS[11], KEYS[2], cap, KEYS[12], friend, me, now)
  end
  delete_row(KEYS[1], friend, mine)
  if theirs then
    delete_row(KEYS[3], me, theirs)
  end
  -- The requests: mine to them (in their lists), theirs to me (in mine).
  local next_key = 13
  local requests = {
    { id = mine_id, pair = KEYS[4], to = KEYS[6], pending = KEYS[7] },
    { id = theirs_id, pair = KEYS[5], to = KEYS[8], pending = KEYS[9] },
  }
  for _, request in ipairs(requests) do
    if request.id ~= '' then
      local key = KEYS[next_key]
      next_key = next_key + 1
      local row = read_request(key)
      if row then
        redis.call('DEL', key)
        entity_event(KEYS[2], cap, 'goodfriendapply', 'delete', row.id, (row._v or 0) + 1, encode_row(row, REQUEST))
      end
      redis.call('DEL', request.pair)
      redis.call('ZREM', request.to, request.id)
      redis.call('ZREM', request.pending, request.id)
    end
  end
  return redis.status_reply('OK')
end

return redis.error_reply('bad_arguments')
