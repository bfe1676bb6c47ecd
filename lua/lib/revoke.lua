-- Ending an account's sessions at once (docs/api.md, *Revocation*), in the step that
-- makes them end (a logout, a password change, a ban, an operator's kick or delete), so
-- that no connection can register in between with the old token:
--  1. the token key is deleted, unless it holds `keep` (a password change has just
--     stored the new token there, in the same write as the password)
--  2. every live socket of the account (its sockets zset, and its delivery target) gets
--     a kick ('kick {uid}:{conn}', force_logout then a close frame) on its process's
--     stream, if that process is alive (a dead one's sockets are gone already)
--  3. the target, its token id and the sockets zset are deleted: from now on the
--     account's messages wait in its offline queue
--@include clock
--@include envelope

-- Returns the number of kicks sent. `dead_after` (ms): a process without a heartbeat
-- for this long is dead; `prefix`: 'chat:node:'; `suffix`: the partition's tag (a
-- process's stream from this partition is prefix .. node .. suffix; '' on one Redis).
local function revoke_sessions(token, online, online_token, sockets, nodes, user, keep, dead_after, prefix, suffix)
  if keep == '' or redis.call('GET', token) ~= keep then
    redis.call('DEL', token)
  end

  local now = now_ms()
  local targets = redis.call('ZRANGEBYSCORE', sockets, '(' .. now, '+inf')
  local current = redis.call('GET', online)
  if current then
    targets[#targets + 1] = current
  end
  redis.call('DEL', online, online_token, sockets)

  local seen, alive, sent = {}, {}, 0
  for _, target in ipairs(targets) do
    local node, connection = string.match(target, '^(.+):(%d+)$')
    if node and not seen[target] then
      seen[target] = true
      if alive[node] == nil then
        local beat = redis.call('ZSCORE', nodes, node)
        alive[node] = (beat and now - tonumber(beat) <= dead_after) or false
      end
      if alive[node] then
        send_to_node(prefix, node .. (suffix or ''), 'kick ' .. user .. ':' .. connection, nil)
        sent = sent + 1
      end
    end
  end
  return sent
end
