-- Registers an account atomically, on one Redis (a tagged layout runs the steps:
-- user_claim, user_register_rows, user_claim again): claims the username and uuid indexes (SET NX, so
-- of two concurrent registrations of one username exactly one succeeds), writes the
-- user and user_info rows, and appends their entity events: the user row's whole to the
-- private stream, its public columns and the user_info row to the entities stream.
-- It never overwrites an account: a user or user_info row already at the new ids (an id
-- counter reset or evicted while the rows survived) refuses the registration before
-- anything is written.
-- KEYS[1] username: chat:user:name:{username}
-- KEYS[2] uuid: chat:user:uuid:{uuid}
-- KEYS[3] user: chat:user:{id}
-- KEYS[4] user_info: chat:userinfo:{id}
-- KEYS[5] stream: chat:stream:entities
-- KEYS[6] names: chat:user:names (the username search index)
-- KEYS[7] private: chat:stream:private (the whole user row, for the persister only)
-- KEYS[8] users: chat:users (every id, the console's list)
-- KEYS[9] nicknames: chat:user:nicknames (the console's nickname search index)
-- KEYS[10] audit_ids: chat:id:admin_audit
-- KEYS[11] audit_list: chat:admin:audit
-- KEYS[12...] device: chat:user:device:{deviceId}, for an account bound to a device
-- ARGV[1] id: the user id
-- ARGV[2] info_id: the user_info id
-- ARGV[3] user_row: the user row (JSON)
-- ARGV[4] info_row: the user_info row (JSON)
-- ARGV[5] stream_cap: the hard cap (MAXLEN ~) of both streams
-- ARGV[6] admin: the operator who creates the account from the console (audit action
-- user.create), or '' for a registration (no audit row)
-- ARGV[7] address: the operator's client address ('' for a registration)
-- ARGV[8] now: the time ('YYYY-MM-DD HH:mm:ss'; '' for a registration)
-- Returns 'OK', or the error 'id_taken' / 'username_taken' / 'uuid_taken' / 'device_taken'.
--@include accounts
--@include audit
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then
  return redis.error_reply('id_taken')
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then
  return redis.error_reply('username_taken')
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX') == false then
  redis.call('DEL', KEYS[1])
  return redis.error_reply('uuid_taken')
end
if KEYS[12] and redis.call('SET', KEYS[12], ARGV[1], 'NX') == false then
  redis.call('DEL', KEYS[1], KEYS[2])
  return redis.error_reply('device_taken')
end

local user = write_account(KEYS[3], KEYS[4], KEYS[6], KEYS[8], KEYS[9], KEYS[5], KEYS[7], ARGV[5], ARGV[1], ARGV[2],
  ARGV[3], ARGV[4], nil)
if (ARGV[6] or '') ~= '' then
  audit(KEYS[10], KEYS[11], KEYS[7], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'user.create', 'user', tonumber(ARGV[1]),
    { username = user.username, nickname = user.nickname })
end
return redis.status_reply('OK')
