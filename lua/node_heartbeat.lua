-- A bridge process says it is alive: its id scored with the current time (ms) in the
-- zset of live nodes. Returns how many nodes are registered.
-- KEYS[1] chat:nodes   ARGV[1] node id   ARGV[2] now in ms
local now = tonumber(ARGV[2])
if not now or ARGV[1] == '' then
  return redis.error_reply('ERR bad_arguments')
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
return redis.call('ZCARD', KEYS[1])
