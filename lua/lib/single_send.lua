-- A single-chat send (docs/api.md, *Single-chat rules*), written once as the steps it
-- takes on a partitioned layout (docs/architecture.md, *Redis Cluster: partitions and
-- steps*): the sender's side (checks, the sender's facts), the recipient's side (their
-- checks, then the message visible: history, stream, delivery) and the sender's history.
-- message_send_single.lua runs them all in one script run (both users in one partition,
-- always on one Redis); message_single_sender/_recipient/_finish.lua run one each in its
-- partition. Refusals are error replies ('token', 'quota user', …), as the script's.
--@include routing
--@include json
--@include messages
--@include rate

-- A retried send (same client id within the window): the message the first one was
-- accepted as, from my history, or its id alone; nil when the client id is new. A send
-- between partitions still under way (its record holds '?' .. id: lib's pending marker)
-- answers 'pending' (the caller reports "not sent", the client retries later).
local function single_duplicate(sent, my_history, limit, indexed)
  local earlier = redis.call('GET', sent)
  if not earlier then return nil end
  if string.byte(earlier, 1) == 63 then -- '?'
    return redis.error_reply('pending')
  end
  local _, entry = find_message(my_history, earlier, limit, indexed)
  return {'duplicate', '', entry or ('{"id":"' .. earlier .. '"}'), 0}
end

-- The sender's checks: token (`token` '' when the caller checked it), account, send rate
-- (not for an automatic answer). Returns the sender's facts
-- {status, role, nickname, username, avatar, uuid} and its role ('user' | 'visitor'), or
-- nil and the error reply.
local function single_sender_checks(token_key, token, sender, rate, send_rate, send_burst, auto_reply, now)
  if token ~= '' and redis.call('GET', token_key) ~= token then
    return nil, redis.error_reply('token')
  end
  local me = redis.call('HMGET', sender, 'status', 'role', 'nickname', 'username', 'avatar', 'uuid')
  if me[1] ~= '1' then
    return nil, redis.error_reply('sender')
  end
  if not auto_reply and not take_send_token(rate, send_rate, send_burst, now) then
    return nil, redis.error_reply('rate')
  end
  return me, me[2] == 'visitor' and 'visitor' or 'user'
end

local function single_number(value)
  if value == nil then return nil end
  return tonumber(value)
end

local function single_row(json)
  if not json then return nil end
  local ok, decoded = pcall(cjson.decode, json)
  if ok and type(decoded) == 'table' then return decoded end
  return nil
end

-- The recipient's checks for sender `me` of role `role`: account, their block, their
-- friendship row of me, else their chatset. Returns the recipient's facts {status,
-- nickname, username, avatar, userset}, their row of me (or nil) and whether the one
-- message before a friendship is to be counted (`quota`); or nil and the error reply.
local function single_recipient_checks(recipient, recipient_friends, recipient_blocks, me, role, auto_reply)
  local to = redis.call('HMGET', recipient, 'status', 'nickname', 'username', 'avatar', 'userset')
  if to[1] ~= '1' then
    return nil, redis.error_reply('recipient')
  end
  local theirRowOfMe = single_row(redis.call('HGET', recipient_friends, me))
  -- A block outlives the friendship (friendship row or not); automatic answers included.
  if redis.call('HEXISTS', recipient_blocks, me) == 1 then
    return nil, redis.error_reply('blacklisted ' .. role)
  end
  if theirRowOfMe then
    if single_number(theirRowOfMe.isblack) == 1 then
      return nil, redis.error_reply('blacklisted ' .. role)
    end
    if (single_number(theirRowOfMe.status) or 1) ~= 1 then
      return nil, redis.error_reply('blocked ' .. role)
    end
    return to, theirRowOfMe, false
  elseif auto_reply then
    return to, nil, false
  end
  -- Not their friend: their chatset for my role (absent or unreadable: one message).
  local sendCount = 1
  local settings = single_row(to[5])
  local chatset = settings and type(settings.chatset) == 'table' and settings.chatset[role]
  if type(chatset) == 'table' and single_number(chatset.sendCount) then
    sendCount = single_number(chatset.sendCount)
  end
  if sendCount == 0 then
    return nil, redis.error_reply('friends_only ' .. role)
  end
  return to, nil, sendCount == 1
end

-- My remark for them (my friendship row of them), or ''.
local function single_my_remark(sender_friends, to)
  local myRowOfThem = single_row(redis.call('HGET', sender_friends, to))
  return non_empty(myRowOfThem and myRowOfThem.nickname) or ''
end

-- The message object, and the names it carries: the reader's remark for the other side,
-- else nickname, else username. `me`: the sender's facts (single_sender_checks);
-- `to`: the recipient's; `remark`: my remark for them ('' for none).
local function single_message(id, from, to_id, message_type, data, options, created, me, to, theirRowOfMe, remark)
  local fromName = non_empty(theirRowOfMe and theirRowOfMe.nickname) or non_empty(me[3]) or me[4] or ''
  local toName = non_empty(remark) or non_empty(to[2]) or to[3] or ''
  local message = '{"id":' .. quote(id) .. ',"from_id":' .. from .. ',"from_name":' .. quote(fromName)
    .. ',"from_avatar":' .. quote(me[5] or '') .. ',"to_id":' .. to_id .. ',"to_name":' .. quote(toName)
    .. ',"to_avatar":' .. quote(to[4] or '') .. ',"chatType":"single","type":' .. quote(message_type)
    .. ',"data":' .. data .. ',"options":' .. options .. ',"create_time":' .. created
    .. ',"isremove":0,"sendUUid":' .. quote(me[6] or '') .. '}'
  return message, fromName, toName
end

-- The accepted message on the messages stream (the shard of the partition that made it
-- visible to the recipient).
local function single_event(stream, cap, id, from, to_id, message_type, from_name, me, to_name, to, data, options,
                            created)
  message_event(stream, cap, 'message', id, 'single', message_type, from, to_id, from_name, me[5] or '',
    to_name, to[4] or '', data, options, created, '0')
end
