-- A group send (docs/api.md, *Group rules*), written once as the steps it takes on a
-- partitioned layout (docs/architecture.md, *Redis Cluster: partitions and steps*): the
-- sender's side (client id, token, account, send rate, the sender's facts), the group's
-- side (group, my membership, the members version; the message in the history, the
-- stream and to the members of the group's partition), and every other member
-- partition's delivery. message_send_group.lua runs them all in one script run (always
-- on one Redis); message_group_sender/_apply/_members/_finish.lua one each in its
-- partition. Refusals are error replies ('token', 'group', …), as the script's.
--@include routing
--@include json
--@include messages
--@include rate

-- The sender's checks: token (`token` '' when the caller checked it) and account.
-- Returns the sender's facts {status, nickname, username, avatar, uuid}, or nil and the
-- error reply.
local function group_sender_checks(token_key, token, sender)
  if token ~= '' and redis.call('GET', token_key) ~= token then
    return nil, redis.error_reply('token')
  end
  local me = redis.call('HMGET', sender, 'status', 'nickname', 'username', 'avatar', 'uuid')
  if me[1] ~= '1' then
    return nil, redis.error_reply('sender')
  end
  return me
end

-- The group's checks: the group active (status 1), my member row active (status 1: a
-- muted member, 0, and an applicant, 2, may not send). Returns the group's facts
-- {status, name, avatar, user_id, remark, invite_confirm} and my row, or nil and the
-- error reply.
local function group_member_checks(group_key, members, me)
  local group = redis.call('HMGET', group_key, 'status', 'name', 'avatar', 'user_id', 'remark', 'invite_confirm')
  if group[1] ~= '1' then
    return nil, redis.error_reply('group')
  end
  local mine = redis.call('HGET', members, me)
  local ok, myRow = pcall(cjson.decode, mine or '')
  if not ok or type(myRow) ~= 'table' or tonumber(myRow.status) ~= 1 then
    return nil, redis.error_reply('not_member')
  end
  return group, myRow
end

-- nil when the caller's members were read at the current members version (`cached`);
-- else the reply {'stale', version, active member ids…}. A missing version (a Redis
-- rebuilt from MariaDB) is seeded from Redis' clock in microseconds, so it never equals
-- a version cached before.
local function group_stale(version_key, members, cached)
  local version = redis.call('GET', version_key)
  if not version then
    local time = redis.call('TIME')
    version = time[1] .. string.format('%06d', tonumber(time[2]))
    redis.call('SET', version_key, version)
  end
  if version == cached then
    return nil
  end
  local reply = {'stale', version}
  local flat = redis.call('HGETALL', members)
  for i = 1, #flat, 2 do
    if string.match(flat[i + 1], '"status":(%d+)') == '1' then
      reply[#reply + 1] = flat[i]
    end
  end
  return reply
end

local function group_integer(text)
  return tostring(tonumber(text) or 0)
end

-- The message object: from_* = my group nickname / avatar, else my nickname / username /
-- avatar (`me`: group_sender_checks' facts); to_* = the group; the compact group object,
-- without members. Returns it and the names the stream entry carries.
local function group_message(id, from, gid, message_type, data, options, created, me, myRow, group)
  local fromName = non_empty(myRow.nickname) or non_empty(me[2]) or me[3] or ''
  local fromAvatar = non_empty(myRow.avatar) or me[4] or ''
  local groupName, groupAvatar = group[2] or '', group[3] or ''
  local message = '{"id":' .. quote(id) .. ',"from_id":' .. from .. ',"from_name":' .. quote(fromName)
    .. ',"from_avatar":' .. quote(fromAvatar) .. ',"to_id":' .. gid .. ',"to_name":' .. quote(groupName)
    .. ',"to_avatar":' .. quote(groupAvatar) .. ',"chatType":"group","type":' .. quote(message_type)
    .. ',"data":' .. data .. ',"options":' .. options .. ',"create_time":' .. created
    .. ',"isremove":0,"sendUUid":' .. quote(me[5] or '') .. ',"group":{"id":' .. gid
    .. ',"name":' .. quote(groupName) .. ',"avatar":' .. quote(groupAvatar) .. ',"user_id":' .. group_integer(group[4])
    .. ',"remark":' .. (group[5] and quote(group[5]) or 'null') .. ',"invite_confirm":' .. group_integer(group[6]) .. '}}'
  return message, fromName, fromAvatar, groupName, groupAvatar
end

-- The accepted message, once: the group's history (capped, with its id index) and the
-- messages stream (the shard of the group's partition). Returns the entries trimmed.
local function group_store(history, stream, history_cap, stream_cap, message, id, from, gid, message_type, data,
                           options, created, from_name, from_avatar, group_name, group_avatar)
  local trimmed = history_append(history, message, id, history_cap, true)
  message_event(stream, stream_cap, 'message', id, 'group', message_type, from, gid, from_name, from_avatar,
    group_name, group_avatar, data, options, created, 0)
  return trimmed
end
