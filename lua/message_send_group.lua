-- Sends one group message (docs/api.md, *Group rules*), all in one atomic step: checks
-- the sender's token and account, the group (status 1) and my membership (status 1);
-- builds the message object (from_* = my group nickname / avatar, else my nickname /
-- username / avatar; to_* = the group; the compact group object, without members);
-- appends it ONCE to the group's history (capped, with its id index: lib/messages.lua)
-- and once to chat:stream:messages; then
-- fans it out to every active member but me (lib/routing.lua): connections on the
-- caller's process are returned to it, one stream entry per other live process carries
-- that process's recipients, everyone else gets it in their offline queue (the message
-- stored once for all of them, each queue holding a reference: lib/offline_queue.lua).
--
-- The recipients come from the caller, who caches each group's active members with the
-- members version they were read at: every membership change increments that version,
-- and a list for another version is answered 'stale' with the current version and
-- members, so the caller refreshes its cache and sends again. Thus every key the script
-- touches is in KEYS, and the member rows are not decoded on every message. A missing
-- version (a Redis rebuilt from MariaDB) is seeded from Redis' clock in microseconds,
-- so it never equals a version cached before.
--
-- The steps are lib/group_send.lua's, which message_group_sender/_apply/_members/_finish.lua
-- run one per partition on a partitioned layout; here (one Redis) it is one script run.
--
-- A client id makes the send idempotent, as in message_send_single.lua: a retried send
-- within the window answers the message the first one was accepted as (found by the id
-- `sent` keeps), and nothing is written or delivered again.
-- KEYS[1] token: chat_user_{me}
-- KEYS[2] sender: chat:user:{me}
-- KEYS[3] group: chat:group:{gid}
-- KEYS[4] members: chat:group:{gid}:members
-- KEYS[5] members_version: chat:group:{gid}:members:v
-- KEYS[6] history: chatlog:group_{gid}
-- KEYS[7] stream: chat:stream:messages
-- KEYS[8] nodes: chat:nodes
-- KEYS[9] sent: chat:sent:{me}:{client id} (any key when there is none)
-- KEYS[10] deliveries: chat:nodes:deliveries
-- KEYS[11] rate: chat:rate:{me}
-- KEYS[12] offline_bodies: chat:offline:bodies
-- KEYS[13] offline_bytes: chat:offline:bytes
-- KEYS[14...] online, queue: for each recipient, online_{uid} and chat_getmessage_{uid}
-- ARGV[1] id: the new message id
-- ARGV[2] me: my id
-- ARGV[3] group: the group id
-- ARGV[4] type: the message type
-- ARGV[5] data: the message data (JSON text)
-- ARGV[6] options: the message options (JSON text)
-- ARGV[7] token: my token, or '' when the caller already checked it
-- ARGV[8] client_id: the client id, or ''
-- ARGV[9] client_id_window: how long a client id is remembered (s)
-- ARGV[10] history_cap: the history list's cap
-- ARGV[11] stream_cap: the stream's cap (MAXLEN ~)
-- ARGV[12] node: the caller's node id
-- ARGV[13] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[14] queue_cap: the offline queue's cap
-- ARGV[15] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[16] send_rate: sends per second per sender (0: no limit)
-- ARGV[17] send_burst: sends at once beyond the rate
-- ARGV[18] queue_bytes: the offline queue's cap in bytes
-- ARGV[19] members_version: the members version the recipients were read at
-- ARGV[20...] recipient: the active members' ids (mine is skipped)
-- Returns {'sent', message JSON, local addresses '{uid}:{conn},…' or '',
-- members routed to other processes (one stream entry per process), members queued, queue
-- entries dropped, history entries trimmed, last sequence published to the caller's process},
-- {'duplicate', message JSON} or {'stale', members version, active member ids…}.
-- Errors: 'token', 'sender', 'group', 'not_member', 'rate' (over the send rate, checked
-- after 'stale' so that the caller's resend is not counted twice: nothing written).
--@include group_send
local historyCap, streamCap = tonumber(ARGV[10]), tonumber(ARGV[11])
local deadAfter = tonumber(ARGV[13])
local sendRate, sendBurst = tonumber(ARGV[16]), tonumber(ARGV[17])
local queue = offline_settings(ARGV[14], ARGV[18], KEYS[12], KEYS[13])
local recipients = #ARGV - 19
if ARGV[1] == '' or ARGV[5] == '' or ARGV[6] == '' or not historyCap or historyCap <= 0 or not streamCap
  or not deadAfter or not queue or ARGV[15] == '' or recipients < 0
  or not sendRate or not sendBurst or sendBurst < 1 or #KEYS ~= 13 + 2 * recipients then
  return redis.error_reply('ERR bad_arguments')
end

if ARGV[8] ~= '' then
  -- The record holds the accepted message's id; the message is found in the group's
  -- history (gone from there: the id alone answers), as in message_send_single.lua.
  local earlier = redis.call('GET', KEYS[9])
  if earlier then
    local _, entry = find_message(KEYS[6], earlier, historyCap)
    return {'duplicate', entry or ('{"id":"' .. earlier .. '"}')}
  end
end
local me, refusal = group_sender_checks(KEYS[1], ARGV[7], KEYS[2])
if not me then return refusal end
local group, myRow = group_member_checks(KEYS[3], KEYS[4], ARGV[2])
if not group then return myRow end
local stale = group_stale(KEYS[5], KEYS[4], ARGV[19])
if stale then return stale end
local now = now_ms()
if not take_send_token(KEYS[11], sendRate, sendBurst, now) then
  return redis.error_reply('rate')
end

local message, fromName, fromAvatar, groupName, groupAvatar = group_message(ARGV[1], ARGV[2], ARGV[3], ARGV[4],
  ARGV[5], ARGV[6], now, me, myRow, group)
local trimmed = group_store(KEYS[6], KEYS[7], historyCap, streamCap, message, ARGV[1], ARGV[2], ARGV[3], ARGV[4],
  ARGV[5], ARGV[6], now, fromName, fromAvatar, groupName, groupAvatar)
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[9], ARGV[1], 'EX', ARGV[9])
end

local here, published, queued, dropped, after = route_many(message, recipients, 19, 13, KEYS[8], KEYS[10],
  ARGV[12], deadAfter, queue, ARGV[15], ARGV[2], now)
return {'sent', message, here, published, queued, dropped, trimmed, after}
