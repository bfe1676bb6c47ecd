-- The group's step of a group send on a partitioned layout (after
-- message_group_sender.lua, in the group's partition): the group, my membership and the
-- members version decide; an accepted message goes once into the group's history, the
-- partition's shard of the messages stream, and to the members of this partition
-- (lib/routing.lua); the members of the other partitions get it from
-- message_group_members.lua, one run per partition. The outcome is kept in an `applied`
-- marker by message id: run again (a retry, the repairer), the step writes and routes
-- nothing and answers the same (the message as found in the history). A members version
-- other than the caller's answers `stale` with the current members (nothing decided:
-- the caller refreshes its copy and runs this step again, the send rate is not counted
-- twice), also when the step had run, so that the later steps get the current members.
-- With `mode` 'find' (a retried client id whose send was accepted) nothing is checked nor
-- written: the message `id` as found in the history, or the id alone.
-- KEYS[1] applied: chat:applied:group:{id}
-- KEYS[2] group: chat:group:{gid}
-- KEYS[3] members: chat:group:{gid}:members
-- KEYS[4] members_version: chat:group:{gid}:members:v
-- KEYS[5] history: chatlog:group_{gid}
-- KEYS[6] stream: chat:stream:messages (the partition's shard)
-- KEYS[7] nodes: chat:nodes (the partition's)
-- KEYS[8] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[9] offline_bodies: chat:offline:bodies (the partition's)
-- KEYS[10] offline_bytes: chat:offline:bytes (the partition's)
-- KEYS[11...] online, queue: for each recipient of this partition, online_{uid} and chat_getmessage_{uid}
-- ARGV[1] mode: 'send' or 'find'
-- ARGV[2] id: the message id
-- ARGV[3] me: the sender's id
-- ARGV[4] group: the group id
-- ARGV[5] type: the message type
-- ARGV[6] data: the message data (JSON text)
-- ARGV[7] options: the message options (JSON text)
-- ARGV[8] created: the message's create_time (ms, the sender's step's clock)
-- ARGV[9] nickname: the sender's nickname
-- ARGV[10] username: the sender's username
-- ARGV[11] avatar: the sender's avatar
-- ARGV[12] uuid: the sender's uuid
-- ARGV[13] history_cap: the history list's cap
-- ARGV[14] stream_cap: the stream's cap (MAXLEN ~)
-- ARGV[15] node: the caller's node id
-- ARGV[16] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[17] queue_cap: the offline queue's cap
-- ARGV[18] queue_bytes: the offline queue's cap in bytes
-- ARGV[19] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[20] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- ARGV[21] applied_ttl: how long (s) the marker is kept
-- ARGV[22] members_version: the members version the recipients were read at
-- ARGV[23...] recipient: the active members of this partition (the sender's id is skipped)
-- Returns {'sent', message JSON, local addresses '{uid}:{conn},…' or '', members routed
-- to other processes, members queued, queue entries dropped, history entries trimmed,
-- last sequence published to the caller's process}; {'applied', message JSON} (the step
-- had run: nothing written); {'found', message JSON} ('find'); or {'stale', members
-- version, active member ids…}. Errors: 'group', 'not_member'.
--@include group_send
local historyCap, streamCap = tonumber(ARGV[13]), tonumber(ARGV[14])
local deadAfter, ttl = tonumber(ARGV[16]), tonumber(ARGV[21])
local queue = offline_settings(ARGV[17], ARGV[18], KEYS[9], KEYS[10])
local recipients = #ARGV - 22
if (ARGV[1] ~= 'send' and ARGV[1] ~= 'find') or ARGV[2] == '' or not historyCap or historyCap <= 0 then
  return redis.error_reply('ERR bad_arguments')
end
if ARGV[1] == 'find' then
  local _, entry = find_message(KEYS[5], ARGV[2], historyCap)
  return {'found', entry or ('{"id":"' .. ARGV[2] .. '"}')}
end
if ARGV[6] == '' or ARGV[7] == '' or not tonumber(ARGV[8]) or not streamCap or not deadAfter or not queue
  or ARGV[19] == '' or not ttl or ttl <= 0 or recipients < 0 or #KEYS ~= 10 + 2 * recipients then
  return redis.error_reply('ERR bad_arguments')
end
local me = {'1', ARGV[9], ARGV[10], ARGV[11], ARGV[12]}

local applied = redis.call('GET', KEYS[1])
if not applied and redis.call('ZSCORE', history_index(KEYS[5]), ARGV[2]) then
  -- The marker expired (a repair long after): the message in the history's index is the
  -- proof it was applied.
  applied = 'accepted'
end
if applied then
  local outcome, detail = string.match(applied, '^(%S+) ?(.*)$')
  if outcome == 'refused' then
    return redis.error_reply(detail)
  end
  local stale = group_stale(KEYS[4], KEYS[3], ARGV[22])
  if stale then return stale end
  local _, entry = find_message(KEYS[5], ARGV[2], historyCap)
  if not entry then
    -- trimmed from the history since: built again from the rows as they are now
    local group = redis.call('HMGET', KEYS[2], 'status', 'name', 'avatar', 'user_id', 'remark', 'invite_confirm')
    local ok, myRow = pcall(cjson.decode, redis.call('HGET', KEYS[3], ARGV[3]) or '')
    if not ok or type(myRow) ~= 'table' then myRow = {} end
    entry = group_message(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], me, myRow, group)
  end
  return {'applied', entry}
end

local group, myRow = group_member_checks(KEYS[2], KEYS[3], ARGV[3])
if not group then
  redis.call('SET', KEYS[1], 'refused ' .. myRow.err, 'EX', ttl)
  return myRow
end
local stale = group_stale(KEYS[4], KEYS[3], ARGV[22])
if stale then return stale end

local message, fromName, fromAvatar, groupName, groupAvatar = group_message(ARGV[2], ARGV[3], ARGV[4], ARGV[5],
  ARGV[6], ARGV[7], ARGV[8], me, myRow, group)
local trimmed = group_store(KEYS[5], KEYS[6], historyCap, streamCap, message, ARGV[2], ARGV[3], ARGV[4], ARGV[5],
  ARGV[6], ARGV[7], ARGV[8], fromName, fromAvatar, groupName, groupAvatar)
redis.call('SET', KEYS[1], 'accepted', 'EX', ttl)
local here, published, queued, dropped, after = route_many(message, recipients, 22, 10, KEYS[7], KEYS[8], ARGV[15],
  deadAfter, queue, ARGV[19], ARGV[3], now_ms(), ARGV[20])
return {'sent', message, here, published, queued, dropped, trimmed, after}
