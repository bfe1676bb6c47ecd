-- A registration's partition step on a tagged layout (docs/architecture.md, *Accounts on
-- partitions*), after its claims (`user_claim`) and before they are confirmed: the `user`
-- and `user_info` rows, the partition's indexes and the entity events, in the user's
-- partition. Idempotent by the id: run again after a crash, a row already written with
-- the same uuid answers 'OK' and writes nothing; any other row at the ids refuses.
-- KEYS[1] user: chat:user:{id}{p}
-- KEYS[2] user_info: chat:userinfo:{id}{p}
-- KEYS[3] stream: chat:stream:entities{p}
-- KEYS[4] private: chat:stream:private{p}
-- KEYS[5] names: chat:user:names{p}
-- KEYS[6] users: chat:users{p}
-- KEYS[7] nicknames: chat:user:nicknames{p}
-- KEYS[8] ids: chat:user:ids{p} (username -> id: what repairs a claim lost in a crash)
-- ARGV[1] id: the user id
-- ARGV[2] info_id: the user_info id
-- ARGV[3] user_row: the user row (JSON)
-- ARGV[4] info_row: the user_info row (JSON)
-- ARGV[5] stream_cap: the hard cap (MAXLEN ~) of both streams
-- Returns 'OK', or the error 'id_taken'.
--@include accounts
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
  local uuid = redis.call('HGET', KEYS[1], 'uuid')
  if uuid and uuid == cjson.decode(ARGV[3]).uuid then
    return redis.status_reply('OK')
  end
  return redis.error_reply('id_taken')
end
write_account(KEYS[1], KEYS[2], KEYS[5], KEYS[6], KEYS[7], KEYS[3], KEYS[4], ARGV[5], ARGV[1], ARGV[2], ARGV[3], ARGV[4],
  KEYS[8])
return redis.status_reply('OK')
