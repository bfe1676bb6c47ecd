-- Ends an account's sessions at once (docs/api.md, *Revocation*): a logout, a password
-- change, a ban or an operator's kick. In one step, so that no connection can register
-- in between with the old token:
--  1. chat_user_{id} is deleted, unless it holds `keep` (a password change has just
--     stored the new token there, in the same write as the password)
--  2. every live socket of the account (chat:sockets:{id}, and the target online_{id})
--     gets a kick ('kick {uid}:{conn}', force_logout then a close frame) on its process's
--     stream, if that process is alive (a dead one's sockets are gone already)
--  3. online_{id}, chat:online:token:{id} and chat:sockets:{id} are deleted: from now on
--     the account's messages wait in its offline queue
-- KEYS[1] token: chat_user_{id}
-- KEYS[2] online: online_{id}
-- KEYS[3] online_token: chat:online:token:{id}
-- KEYS[4] sockets: chat:sockets:{id}
-- KEYS[5] nodes: chat:nodes
-- ARGV[1] user: the account's id
-- ARGV[2] keep: the one token that stays valid, or '' for none
-- ARGV[3] dead_after: a process without a heartbeat for this long (ms) is dead
-- ARGV[4] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- Returns the number of kicks sent.
--@include clock
--@include envelope
local deadAfter = tonumber(ARGV[3])
if not tonumber(ARGV[1]) or not deadAfter or ARGV[4] == '' then
  return redis.error_reply('ERR bad_arguments')
end
if ARGV[2] == '' or redis.call('GET', KEYS[1]) ~= ARGV[2] then
  redis.call('DEL', KEYS[1])
end

local now = now_ms()
local targets = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. now, '+inf')
local online = redis.call('GET', KEYS[2])
if online then
  targets[#targets + 1] = online
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])

local seen, alive, sent = {}, {}, 0
for _, target in ipairs(targets) do
  local node, connection = string.match(target, '^(.+):(%d+)$')
  if node and not seen[target] then
    seen[target] = true
    if alive[node] == nil then
      local beat = redis.call('ZSCORE', KEYS[5], node)
      alive[node] = (beat and now - tonumber(beat) <= deadAfter) or false
    end
    if alive[node] then
      send_to_node(ARGV[4], node, 'kick ' .. ARGV[1] .. ':' .. connection, nil)
      sent = sent + 1
    end
  end
end
return sent
