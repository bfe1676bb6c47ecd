-- Ends an account's sessions at once (docs/api.md, *Revocation*): a logout, a password
-- change, a ban or an operator's kick. The steps are lib/revoke.lua's: the token deleted
-- unless it is `keep`, a kick to every live socket on its live process, the target and
-- the socket set removed.
-- KEYS[1] token: chat_user_{id}
-- KEYS[2] online: online_{id}
-- KEYS[3] online_token: chat:online:token:{id}
-- KEYS[4] sockets: chat:sockets:{id}
-- KEYS[5] nodes: chat:nodes
-- ARGV[1] user: the account's id
-- ARGV[2] keep: the one token that stays valid, or '' for none
-- ARGV[3] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[4] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[5] partition_suffix: the user's partition's tag ('' on one Redis): a process's
-- stream from this partition is stream_prefix .. node .. partition_suffix
-- Returns the number of kicks sent.
--@include revoke
local deadAfter = tonumber(ARGV[3])
if not tonumber(ARGV[1]) or not deadAfter or ARGV[4] == '' then
  return redis.error_reply('ERR bad_arguments')
end
return revoke_sessions(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], deadAfter, ARGV[4], ARGV[5])
