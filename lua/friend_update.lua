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
-- On a partitioned layout 'black' and 'delete' run as friend_step.lua (the block ids are
-- taken before the step there; the other user's side of 'delete' is a step of its own).
--
-- Errors: 'missing' (no row of mine for that friend, and for black no block either;
-- star and see: or it is blacklisted), 'stale' (a pair key changed since the caller read
-- it: read again and retry), 'bad_arguments'. Returns 'OK'.
--@include friends
local op, cap, now, friend = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if not tonumber(cap) or (now or '') == '' or (friend or '') == '' then
  return redis.error_reply('bad_arguments')
end

if op == 'black' then
  local me = ARGV[5]
  if #KEYS ~= 4 or not tonumber(me) then
    return redis.error_reply('bad_arguments')
  end
  local refusal = toggle_black(KEYS[2], cap, now, KEYS[1], KEYS[3], function() return redis.call('INCR', KEYS[4]) end,
    me, friend)
  if refusal then
    return redis.error_reply(refusal)
  end
  return redis.status_reply('OK')
end

if op == 'star' or op == 'see' then
  local lookme, lookfriend = tonumber(ARGV[5]), tonumber(ARGV[6])
  if #KEYS ~= 2 or (op == 'see' and (not (lookme == 0 or lookme == 1) or not (lookfriend == 0 or lookfriend == 1))) then
    return redis.error_reply('bad_arguments')
  end
  local json = redis.call('HGET', KEYS[1], friend)
  local row = json and cjson.decode(json) or nil
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
  if redis.call('HEXISTS', KEYS[1], friend) ~= 1 then
    return redis.error_reply('missing')
  end
  if (redis.call('GET', KEYS[4]) or '') ~= mine_id or (redis.call('GET', KEYS[5]) or '') ~= theirs_id then
    return redis.error_reply('stale')
  end
  local next_block_id = function() return redis.call('INCR', KEYS[12]) end
  local mine = friend_row(KEYS[1], friend)
  local theirs = friend_row(KEYS[3], me)
  block_if_blacklisted(KEYS[2], cap, now, KEYS[10], next_block_id, me, friend, mine)
  block_if_blacklisted(KEYS[2], cap, now, KEYS[11], next_block_id, friend, me, theirs)
  delete_friend_row(KEYS[2], cap, KEYS[1], friend, mine)
  if theirs then
    delete_friend_row(KEYS[2], cap, KEYS[3], me, theirs)
  end
  -- The requests: mine to them (in their lists), theirs to me (in mine).
  delete_pair_request(KEYS[2], cap, mine_id ~= '' and KEYS[13] or nil, mine_id, KEYS[4], KEYS[6], KEYS[7])
  delete_pair_request(KEYS[2], cap, theirs_id ~= '' and KEYS[#KEYS] or nil, theirs_id, KEYS[5], KEYS[8], KEYS[9])
  return redis.status_reply('OK')
end

return redis.error_reply('bad_arguments')
