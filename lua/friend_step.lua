-- The steps of friend operations between users of two partitions (docs/architecture.md,
-- *Redis Cluster: partitions and steps*), each one script run on one partition, sharing
-- lib/friends.lua with the one-partition scripts friend_request and friend_update.
--
-- An operation has an id (operation_id). Its first step runs in the actor's partition,
-- checks what is there, makes the actor's own change and leaves a `pending` record (the
-- id in chat:social:pending by deadline, what the later steps need in
-- chat:social:pending:records). The next step runs in the other user's partition: it
-- decides what is decided there (target missing, blocks, duplicates) and writes an
-- `applied` marker with its outcome (kept a day), so that running it again changes
-- nothing and answers the same outcome. The last step, back in the actor's partition,
-- commits (or undoes) by that outcome and deletes the pending record; it too may run
-- twice. The repairer runs the later steps of expired pending records again.
--
-- 'stale' (a pair key changed since the caller read it) writes no marker: the caller
-- reads again and runs the step again.
--
-- ARGV[1] op: 'black', 'begin', 'auto_target', 'auto_commit', 'handle_begin', 'handle_peer',
-- 'handle_commit', 'delete_mine', 'delete_theirs' or 'finish'
-- ARGV[2] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- ARGV[4] operation_id: the operation's id ('' for 'black')
-- @op black: setblackgoodfriend on a partitioned layout (one partition: mine), the block id taken before
-- KEYS[1] stream: chat:stream:entities of my partition
-- KEYS[2] my_friends: chat:friends:{me}
-- KEYS[3] my_blocks: chat:blocks:{me}
-- ARGV[5] me: my id
-- ARGV[6] friend: the friend's id
-- ARGV[7] block_id: the id of a new block (skipped when none is made)
-- @op begin: the pending record of an operation whose first step writes nothing else (auto)
-- KEYS[1] pending: chat:social:pending of my partition
-- KEYS[2] records: chat:social:pending:records of my partition
-- ARGV[5] deadline: when the repairer may finish it (ms)
-- ARGV[6] record: what the later steps need (JSON)
-- @op auto_target: autoAddFriendAndAgree in the target's partition: the checks, the agreed
-- request and the target's row
-- KEYS[1] stream: chat:stream:entities of the target's partition
-- KEYS[2] target: chat:user:{to}
-- KEYS[3] pair: chat:apply:pair:{me}:{to}
-- KEYS[4] request: chat:apply:{new id}
-- KEYS[5] to_requests: chat:apply:to:{to}
-- KEYS[6] pending_requests: chat:apply:pending:{to}
-- KEYS[7] their_friends: chat:friends:{to}
-- KEYS[8] their_quota: chat:quota:{to}
-- KEYS[9] their_blocks: chat:blocks:{to}
-- KEYS[10] applied: chat:social:applied:{operation id} of the target's partition
-- KEYS[11...] old_request: chat:apply:{old request id}, when there is one
-- ARGV[5] me: my id
-- ARGV[6] to: the target's id
-- ARGV[7] request_id: the new request's id
-- ARGV[8] nickname: the request's nickname
-- ARGV[9] old_request_id: the request id `pair` held when the caller read it, or ''
-- ARGV[10] their_row_id: the row id to→me
-- ARGV[11] my_nickname: my nickname (to→me's remark)
-- @op auto_commit, handle_commit: back in my partition: my row by the other step's outcome
-- KEYS[1] stream: chat:stream:entities of my partition
-- KEYS[2] pending: chat:social:pending of my partition
-- KEYS[3] records: chat:social:pending:records of my partition
-- KEYS[4] my_friends: chat:friends:{me}
-- KEYS[5] my_quota: chat:quota:{me}
-- KEYS[6] my_blocks: chat:blocks:{me}
-- ARGV[5] me: my id
-- ARGV[6] friend: the other user's id
-- ARGV[7] my_row_id: the row id me→friend
-- ARGV[8] remark: my remark for the friend
-- ARGV[9] outcome: the other step's: 'ok' or its error code
-- @op handle_commit: a refused agreement puts the request back to pending
-- KEYS[7] request: chat:apply:{id}
-- KEYS[8] pending_requests: chat:apply:pending:{me}
-- @op handle_begin: handleapply in my partition (the recipient's): the request's status;
-- 'agree' leaves the pending record of the rows still to make
-- KEYS[1] stream: chat:stream:entities of my partition
-- KEYS[2] request: chat:apply:{id}
-- KEYS[3] pending_requests: chat:apply:pending:{me}
-- KEYS[4] pending: chat:social:pending of my partition
-- KEYS[5] records: chat:social:pending:records of my partition
-- ARGV[5] me: my id
-- ARGV[6] applicant: the applicant's id
-- ARGV[7] status: 'pending', 'refuse', 'agree' or 'ignore'
-- ARGV[8] deadline: when the repairer may finish it (ms)
-- ARGV[9] record: what the later steps need (JSON)
-- @op handle_peer: an agreement in the applicant's partition: their block of me, their row
-- KEYS[1] stream: chat:stream:entities of the applicant's partition
-- KEYS[2] their_friends: chat:friends:{applicant}
-- KEYS[3] their_quota: chat:quota:{applicant}
-- KEYS[4] their_blocks: chat:blocks:{applicant}
-- KEYS[5] applied: chat:social:applied:{operation id} of the applicant's partition
-- ARGV[5] me: my id
-- ARGV[6] applicant: the applicant's id
-- ARGV[7] their_row_id: the row id applicant→me
-- ARGV[8] my_nickname: my nickname (the applicant's remark for me)
-- @op delete_mine: deletegoodfriend in my partition: my row, their request to me
-- KEYS[1] stream: chat:stream:entities of my partition
-- KEYS[2] my_friends: chat:friends:{me}
-- KEYS[3] my_blocks: chat:blocks:{me}
-- KEYS[4] their_pair: chat:apply:pair:{friend}:{me}
-- KEYS[5] my_to_requests: chat:apply:to:{me}
-- KEYS[6] my_pending_requests: chat:apply:pending:{me}
-- KEYS[7] pending: chat:social:pending of my partition
-- KEYS[8] records: chat:social:pending:records of my partition
-- KEYS[9...] request: chat:apply:{their request id}, when it is not ''
-- ARGV[5] me: my id
-- ARGV[6] friend: the friend's id
-- ARGV[7] their_request_id: the request id `their_pair` held when the caller read it, or ''
-- ARGV[8] block_id: the id of a block my blacklisted row becomes (skipped when none is made)
-- ARGV[9] deadline: when the repairer may finish it (ms)
-- ARGV[10] record: what the later steps need (JSON)
-- @op delete_theirs: deletegoodfriend in the friend's partition: their row, my request to them
-- KEYS[1] stream: chat:stream:entities of the friend's partition
-- KEYS[2] their_friends: chat:friends:{friend}
-- KEYS[3] their_blocks: chat:blocks:{friend}
-- KEYS[4] my_pair: chat:apply:pair:{me}:{friend}
-- KEYS[5] their_to_requests: chat:apply:to:{friend}
-- KEYS[6] their_pending_requests: chat:apply:pending:{friend}
-- KEYS[7] applied: chat:social:applied:{operation id} of the friend's partition
-- KEYS[8...] request: chat:apply:{my request id}, when it is not ''
-- ARGV[5] me: my id
-- ARGV[6] friend: the friend's id
-- ARGV[7] my_request_id: the request id `my_pair` held when the caller read it, or ''
-- ARGV[8] block_id: the id of a block their blacklisted row becomes (skipped when none is made)
-- @op finish: the operation is done: its pending record goes
-- KEYS[1] pending: chat:social:pending of my partition
-- KEYS[2] records: chat:social:pending:records of my partition
-- @end
--
-- Errors: 'missing', 'blocked', 'duplicate', 'needs_confirm', 'stale', 'id_taken' as in
-- friend_request and friend_update, 'bad_arguments'. Returns: 'OK' (black, begin,
-- delete_*, finish), {0} (handle_begin), {created, row JSON} (auto_target, handle_peer:
-- the other user's row; the commits: mine).
--@include friends
local op, cap, now, operation_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not tonumber(cap) or (now or '') == '' or operation_id == nil then
  return redis.error_reply('bad_arguments')
end
-- How long an `applied` marker is kept: far longer than a pending record waits.
local APPLIED_SECONDS = 86400

local function record_pending(pending, records, deadline, record)
  redis.call('ZADD', pending, deadline, operation_id)
  redis.call('HSET', records, operation_id, record)
end

local function drop_pending(pending, records)
  redis.call('ZREM', pending, operation_id)
  redis.call('HDEL', records, operation_id)
end

local function fixed_id(id)
  return function() return tonumber(id) end
end

-- A step already applied answers its outcome again: the row for 'ok', else the error.
local function applied_before(applied, friends_key, friend)
  local outcome = redis.call('GET', applied)
  if not outcome then
    return nil
  end
  if outcome ~= 'ok' then
    return redis.error_reply(outcome)
  end
  return { 0, redis.call('HGET', friends_key, friend) or '' }
end

local function refuse(applied, code)
  redis.call('SET', applied, code, 'EX', APPLIED_SECONDS)
  return redis.error_reply(code)
end

-- The other user's row after the checks of their step passed, and the marker.
local function befriend_peer(stream, friends_key, quota_key, blocks_key, applied, row_id, owner, friend, remark)
  local json, created = befriend(stream, cap, now, friends_key, blocks_key, row_id, owner, friend, remark)
  if created then
    redis.call('HDEL', quota_key, friend)
  end
  redis.call('SET', applied, 'ok', 'EX', APPLIED_SECONDS)
  return { created and 1 or 0, json }
end

if op == 'black' then
  if #KEYS ~= 3 or not tonumber(ARGV[5]) or not tonumber(ARGV[6]) or not tonumber(ARGV[7]) then
    return redis.error_reply('bad_arguments')
  end
  local refusal = toggle_black(KEYS[1], cap, now, KEYS[2], KEYS[3], fixed_id(ARGV[7]), ARGV[5], ARGV[6])
  if refusal then
    return redis.error_reply(refusal)
  end
  return redis.status_reply('OK')
end

if operation_id == '' then
  return redis.error_reply('bad_arguments')
end

if op == 'begin' then
  if #KEYS ~= 2 or not tonumber(ARGV[5]) or (ARGV[6] or '') == '' then
    return redis.error_reply('bad_arguments')
  end
  record_pending(KEYS[1], KEYS[2], ARGV[5], ARGV[6])
  return redis.status_reply('OK')
end

if op == 'auto_target' then
  local me, to, new_id, nickname, old_id = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
  if #KEYS ~= 10 + ((old_id or '') ~= '' and 1 or 0) or not tonumber(me) or not tonumber(to) or me == to
    or not tonumber(new_id) or nickname == nil or old_id == nil or not tonumber(ARGV[10]) or ARGV[11] == nil then
    return redis.error_reply('bad_arguments')
  end
  local applied = KEYS[10]
  local before = applied_before(applied, KEYS[7], me)
  if before then
    return before
  end
  local refusal = request_checks(KEYS[2], KEYS[9], KEYS[3], KEYS[4], me, old_id, true)
  if refusal == 'stale' then
    return redis.error_reply(refusal)
  elseif refusal then
    return refuse(applied, refusal)
  end
  local old = old_id ~= '' and read_request(KEYS[11]) or nil
  if old and (old.status == 'pending' or old.status == 'agree') then
    return refuse(applied, 'duplicate')
  end
  request_write(KEYS[1], cap, now, { old = KEYS[11], request = KEYS[4], pair = KEYS[3], to_requests = KEYS[5],
    pending = KEYS[6] }, me, to, new_id, nickname, old, true)
  return befriend_peer(KEYS[1], KEYS[7], KEYS[8], KEYS[9], applied, ARGV[10], to, me, ARGV[11])
end

if op == 'auto_commit' or op == 'handle_commit' then
  local me, friend, row_id, remark, outcome = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
  if #KEYS ~= (op == 'auto_commit' and 6 or 8) or not tonumber(me) or not tonumber(friend) or not tonumber(row_id)
    or remark == nil or (outcome or '') == '' then
    return redis.error_reply('bad_arguments')
  end
  local first = redis.call('HEXISTS', KEYS[3], operation_id) == 1
  drop_pending(KEYS[2], KEYS[3])
  if outcome ~= 'ok' then
    -- Refused in the other partition: a handled request is pending again (once).
    if first and op == 'handle_commit' then
      local request = read_request(KEYS[7])
      if request and request.status == 'agree' then
        request.status = 'pending'
        request.update_time = now
        request._v = (request._v or 0) + 1
        write_request(KEYS[1], cap, KEYS[7], request)
        redis.call('ZADD', KEYS[8], request.id, request.id)
      end
    end
    return redis.error_reply(outcome)
  end
  local json, created = befriend(KEYS[1], cap, now, KEYS[4], KEYS[6], row_id, me, friend, remark)
  if created then
    redis.call('HDEL', KEYS[5], friend)
  end
  return { created and 1 or 0, json }
end

if op == 'handle_begin' then
  local me, applicant, status = ARGV[5], ARGV[6], ARGV[7]
  local statuses = { pending = true, refuse = true, agree = true, ignore = true }
  if #KEYS ~= 5 or not tonumber(me) or not tonumber(applicant) or not statuses[status]
    or (status == 'agree' and (not tonumber(ARGV[8]) or (ARGV[9] or '') == '')) then
    return redis.error_reply('bad_arguments')
  end
  local request = read_request(KEYS[2])
  if not request or request.status ~= 'pending' or request.friend_id ~= tonumber(me)
    or request.user_id ~= tonumber(applicant) then
    return redis.error_reply('missing')
  end
  request.status = status
  request.update_time = now
  request._v = (request._v or 0) + 1
  write_request(KEYS[1], cap, KEYS[2], request)
  if status ~= 'pending' then
    redis.call('ZREM', KEYS[3], request.id)
  end
  if status == 'agree' then
    record_pending(KEYS[4], KEYS[5], ARGV[8], ARGV[9])
  end
  return { 0 }
end

if op == 'handle_peer' then
  local me, applicant = ARGV[5], ARGV[6]
  if #KEYS ~= 5 or not tonumber(me) or not tonumber(applicant) or not tonumber(ARGV[7]) or ARGV[8] == nil then
    return redis.error_reply('bad_arguments')
  end
  local applied = KEYS[5]
  local before = applied_before(applied, KEYS[2], me)
  if before then
    return before
  end
  if blocks(KEYS[4], me) then
    return refuse(applied, 'blocked')
  end
  return befriend_peer(KEYS[1], KEYS[2], KEYS[3], KEYS[4], applied, ARGV[7], applicant, me, ARGV[8])
end

if op == 'delete_mine' then
  local me, friend, theirs_id = ARGV[5], ARGV[6], ARGV[7]
  if not tonumber(me) or not tonumber(friend) or me == friend or theirs_id == nil or #KEYS ~= 8 + (theirs_id ~= '' and 1 or 0)
    or not tonumber(ARGV[8]) or not tonumber(ARGV[9]) or (ARGV[10] or '') == '' then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('HEXISTS', KEYS[2], friend) ~= 1 then
    return redis.error_reply('missing')
  end
  if (redis.call('GET', KEYS[4]) or '') ~= theirs_id then
    return redis.error_reply('stale')
  end
  unfriend_side(KEYS[1], cap, now, KEYS[2], KEYS[3], fixed_id(ARGV[8]), me, friend, KEYS[4], KEYS[5], KEYS[6],
    KEYS[9], theirs_id)
  record_pending(KEYS[7], KEYS[8], ARGV[9], ARGV[10])
  return redis.status_reply('OK')
end

if op == 'delete_theirs' then
  local me, friend, mine_id = ARGV[5], ARGV[6], ARGV[7]
  if not tonumber(me) or not tonumber(friend) or mine_id == nil or #KEYS ~= 7 + (mine_id ~= '' and 1 or 0)
    or not tonumber(ARGV[8]) then
    return redis.error_reply('bad_arguments')
  end
  if redis.call('EXISTS', KEYS[7]) == 1 then
    return redis.status_reply('OK')
  end
  if (redis.call('GET', KEYS[4]) or '') ~= mine_id then
    return redis.error_reply('stale')
  end
  unfriend_side(KEYS[1], cap, now, KEYS[2], KEYS[3], fixed_id(ARGV[8]), friend, me, KEYS[4], KEYS[5], KEYS[6],
    KEYS[8], mine_id)
  redis.call('SET', KEYS[7], 'ok', 'EX', APPLIED_SECONDS)
  return redis.status_reply('OK')
end

if op == 'finish' then
  if #KEYS ~= 2 then
    return redis.error_reply('bad_arguments')
  end
  drop_pending(KEYS[1], KEYS[2])
  return redis.status_reply('OK')
end

return redis.error_reply('bad_arguments')
