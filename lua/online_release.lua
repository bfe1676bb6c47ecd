-- A closing connection stops being its user's delivery target, but only if it still is
-- (compare-and-delete, docs/api.md *Fix*): an old socket never unregisters a newer one.
-- It is no longer one of the user's live sockets either way.
-- KEYS[1] online: online_{id}
-- KEYS[2] online_token: chat:online:token:{id}
-- KEYS[3] sockets: chat:sockets:{id}
-- ARGV[1] target: '{node}:{conn}'
-- Returns 1 when the keys were removed, 0 when they belong to someone else.
if ARGV[1] == '' then
  return redis.error_reply('ERR bad_arguments')
end
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
