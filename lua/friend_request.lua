-- Friend requests and the friendships they create (docs/api.md, *Friends*): applyfriend,
-- autoAddFriendAndAgree and handleapply. Everything is checked before the first write
-- (Redis does not roll a script back), and every row written or deleted appends its
-- entity event in this same script.
--
-- A pair has at most one `goodfriendapply` row per direction: chat:apply:pair:{from}:{to}
-- holds its id. A new request after a refused or ignored one deletes the old row. A
-- friendship is two `goodfriend` rows, JSON in chat:friends:{owner} (field: the friend's
-- uid); a row that exists is never written again here, so agreeing twice, or agreeing to
-- two crossing requests, creates each direction once.
--
-- Blocks (lib/blocks.lua): a user the other one blocks can neither request, nor add, nor
-- agree to a request ('blocked'); the blocker can. A row created for a blocker carries
-- `isblack` 1, mirroring the block.
--
-- A request's keys (its row, the pair key, the lists) are in the recipient's partition, so
-- 'apply' is one partition on every layout; 'auto' and 'handle' run here when both users
-- are in one partition, else as the steps of friend_step.lua (the same lib/friends.lua).
--
-- ARGV[1] op: 'apply', 'auto' or 'handle'
-- ARGV[2] stream_cap: the entities stream's hard cap (MAXLEN ~)
-- ARGV[3] now: the time ('YYYY-MM-DD HH:mm:ss')
-- @op apply, auto: a pending request ('apply'), or an agreed one plus both rows ('auto')
-- KEYS[1] target: chat:user:{to}
-- KEYS[2] pair: chat:apply:pair:{me}:{to}
-- KEYS[3] request: chat:apply:{new id}
-- KEYS[4] to_requests: chat:apply:to:{to}
-- KEYS[5] pending: chat:apply:pending:{to}
-- KEYS[6] stream: chat:stream:entities
-- ARGV[4] me: my id
-- ARGV[5] to: the target's id
-- ARGV[6] request_id: the new request's id
-- ARGV[7] nickname: the request's nickname
-- ARGV[8] old_request_id: the request id `pair` held when the caller read it, or ''
-- @op apply
-- KEYS[7] their_blocks: chat:blocks:{to}
-- KEYS[8...] old_request: chat:apply:{old request id}, when there is one
-- @op auto
-- KEYS[7] my_friends: chat:friends:{me}
-- KEYS[8] their_friends: chat:friends:{to}
-- KEYS[9] my_quota: chat:quota:{me}
-- KEYS[10] their_quota: chat:quota:{to}
-- KEYS[11] my_blocks: chat:blocks:{me}
-- KEYS[12] their_blocks: chat:blocks:{to}
-- KEYS[13...] old_request: chat:apply:{old request id}, when there is one
-- ARGV[9] my_row_id: the row id me→to
-- ARGV[10] their_row_id: the row id to→me
-- ARGV[11] my_nickname: my nickname (to→me's remark; me→to's is '')
-- @op handle: a pending request to me gets a status; 'agree' creates the missing rows
-- KEYS[1] request: chat:apply:{id}
-- KEYS[2] pending: chat:apply:pending:{me}
-- KEYS[3] stream: chat:stream:entities
-- KEYS[4] my_friends: chat:friends:{me}
-- KEYS[5] their_friends: chat:friends:{applicant}
-- KEYS[6] my_quota: chat:quota:{me}
-- KEYS[7] their_quota: chat:quota:{applicant}
-- KEYS[8] my_blocks: chat:blocks:{me}
-- KEYS[9] their_blocks: chat:blocks:{applicant}
-- ARGV[4] me: my id
-- ARGV[5] applicant: the applicant's id
-- ARGV[6] status: 'pending', 'refuse', 'agree' or 'ignore'
-- ARGV[7] remark: my remark for the applicant
-- ARGV[8] my_nickname: my nickname (the applicant's remark for me)
-- ARGV[9] my_row_id: the row id me→applicant ('agree' only, else '')
-- ARGV[10] their_row_id: the row id applicant→me ('agree' only, else '')
-- @end
--
-- Errors: 'missing' (apply/auto: the target is gone or disabled; handle: no pending
-- request with that id to me), 'blocked' (the target, or for 'agree' the applicant,
-- blocks me), 'duplicate' (a pending or agreed request from me to them),
-- 'needs_confirm' (auto: the target's invite_confirm is not 0), 'stale' (the pair key
-- changed since the caller read it: read again and retry), 'id_taken' (apply/auto: a
-- request row exists at the new id; never overwritten), 'bad_arguments'.
-- Returns: apply: the new request id. auto and agree: {rows created (0-2), my row JSON,
-- their row JSON}. Other statuses: {0}.
--@include friends
local op, cap, now = ARGV[1], ARGV[2], ARGV[3]
if not tonumber(cap) or (now or '') == '' then
  return redis.error_reply('bad_arguments')
end

if op == 'apply' or op == 'auto' then
  local me, to, new_id, nickname, old_id = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
  local auto = op == 'auto'
  local key_count = (auto and 12 or 7) + ((old_id or '') ~= '' and 1 or 0)
  if #KEYS ~= key_count or me == '' or to == '' or me == to or new_id == '' or old_id == nil
    or (auto and ((ARGV[9] or '') == '' or (ARGV[10] or '') == '' or ARGV[11] == nil)) then
    return redis.error_reply('bad_arguments')
  end
  local refusal = request_checks(KEYS[1], auto and KEYS[12] or KEYS[7], KEYS[2], KEYS[3], me, old_id, auto)
  if refusal then
    return redis.error_reply(refusal)
  end
  local old_key = KEYS[#KEYS]
  local old = old_id ~= '' and read_request(old_key) or nil
  if old and (old.status == 'pending' or old.status == 'agree') then
    return redis.error_reply('duplicate')
  end

  local stream = KEYS[6]
  request_write(stream, cap, now, { old = old_key, request = KEYS[3], pair = KEYS[2], to_requests = KEYS[4],
    pending = KEYS[5] }, me, to, new_id, nickname, old, auto)
  if not auto then
    return tonumber(new_id)
  end
  return befriend_both(stream, cap, now, me, to, KEYS[7], KEYS[8], KEYS[9], KEYS[10], ARGV[9], ARGV[10], '', ARGV[11],
    KEYS[11], KEYS[12])
end

if op == 'handle' then
  local me, applicant, status = ARGV[4], ARGV[5], ARGV[6]
  local statuses = { pending = true, refuse = true, agree = true, ignore = true }
  if #KEYS ~= 9 or me == '' or applicant == '' or not statuses[status] or ARGV[7] == nil or ARGV[8] == nil
    or (status == 'agree' and ((ARGV[9] or '') == '' or (ARGV[10] or '') == '')) then
    return redis.error_reply('bad_arguments')
  end
  local request = read_request(KEYS[1])
  if not request or request.status ~= 'pending' or request.friend_id ~= tonumber(me)
    or request.user_id ~= tonumber(applicant) then
    return redis.error_reply('missing')
  end
  if status == 'agree' and blocks(KEYS[9], me) then
    return redis.error_reply('blocked')
  end

  local stream = KEYS[3]
  request.status = status
  request.update_time = now
  request._v = (request._v or 0) + 1
  write_request(stream, cap, KEYS[1], request)
  if status ~= 'pending' then
    redis.call('ZREM', KEYS[2], request.id)
  end
  if status ~= 'agree' then
    return { 0 }
  end
  return befriend_both(stream, cap, now, me, applicant, KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[9], ARGV[10], ARGV[7],
    ARGV[8], KEYS[8], KEYS[9])
end

return redis.error_reply('bad_arguments')
