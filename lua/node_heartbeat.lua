-- A bridge process says it is alive: its id scored with Redis's own clock (ms), so
-- liveness never depends on the clocks of the bridge hosts agreeing. Then it reaps what
-- dead processes left (docs/architecture.md, *Delivery*): entries of the stream of a
-- process silent for longer than ARGV[3] ms (twice the time after which it counts as
-- dead: a process that only stalled has had every chance to read what it was sent)
-- move to the caller's own stream, at most ARGV[4] per call, each marked with the
-- process it was meant for ('from'), and the caller routes them again (to a newer target
-- or the offline queue). A script is atomic: each entry moves once, whichever live
-- process reaps it. Entries silent for longer
-- than ARGV[2] ms whose stream is empty are pruned, which bounds the zset, and their
-- delivery sequences with them.
-- On a partitioned layout a process beats once per partition (each run on that
-- partition's keys: its chat:nodes, deliveries and the processes' streams there, named
-- `stream_prefix .. node .. partition_suffix`), so that every partition's routing sees it
-- alive and reaps what the dead left there.
-- The dashboard's figures come with the beat (docs/console.md): this process's sockets
-- and distinct users in chat:nodes:stats (node id → {"sockets","users","at"}, pruned
-- with the node), and the sends it accepted since its last beat added to the minute's
-- counter chat:stats:messages:{minute} (minute = Redis' ms / 60000, rounded down;
-- expires after two hours), named here from its prefix like the node streams; both are
-- partition 0's, written by that run only (the others pass messages_prefix '').
-- KEYS[1] nodes: chat:nodes (the partition's)
-- KEYS[2] deliveries: chat:nodes:deliveries (the partition's)
-- KEYS[3] stats: chat:nodes:stats (the partition's: only partition 0's holds figures)
-- ARGV[1] node: the node id
-- ARGV[2] prune_after: entries silent for longer than this (ms) are removed
-- ARGV[3] reap_after: the stream of a process silent for longer than this (ms) is reaped
-- ARGV[4] reap_batch: entries reaped per call at most
-- ARGV[5] stream_prefix: 'chat:node:' (each process's stream of deliveries)
-- ARGV[6] sockets: this process's live WebSocket connections
-- ARGV[7] users: the distinct users connected to this process
-- ARGV[8] messages: sends this process accepted since its last beat that counted
-- ARGV[9] messages_prefix: 'chat:stats:messages:' (the per-minute counters), or '' for
-- a run that records no figures (a partition other than 0)
-- ARGV[10] partition_suffix: the partition's suffix ('{p3}'; '' on one Redis)
-- Returns {how many nodes are registered, entries reaped, entries in the caller's own
-- stream (its backlog, the reaped ones included)}.
--@include clock
--@include envelope
local prune, reapAfter, batch = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local sockets, users, messages = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if ARGV[1] == '' or ARGV[5] == '' or not prune or prune <= 0 or not reapAfter or not batch or batch <= 0
  or not sockets or not users or not messages or messages < 0 or ARGV[10] == nil then
  return redis.error_reply('ERR bad_arguments')
end
local suffix = ARGV[10]
local now = now_ms()
redis.call('ZADD', KEYS[1], now, ARGV[1])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[1],
    string.format('{"sockets":%d,"users":%d,"at":%d}', sockets, users, now))
end
if messages > 0 and ARGV[9] ~= '' then
  local minute = ARGV[9] .. string.format('%d', math.floor(now / 60000)) .. suffix
  redis.call('INCRBY', minute, messages)
  redis.call('EXPIRE', minute, 7200)
end

local reaped = 0
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - reapAfter), 'LIMIT', 0, 100)
for _, node in ipairs(dead) do
  if reaped >= batch then break end
  local stream = ARGV[5] .. node .. suffix
  local entries = redis.call('XRANGE', stream, '-', '+', 'COUNT', batch - reaped)
  for _, entry in ipairs(entries) do
    local fields, envelope, from = entry[2], nil, node
    for i = 1, #fields, 2 do
      if fields[i] == 'e' then
        envelope = fields[i + 1]
      elseif fields[i] == 'from' then
        from = fields[i + 1]
      end
    end
    if envelope then send_to_node(ARGV[5], ARGV[1], envelope, from, suffix) end
    redis.call('XDEL', stream, entry[1])
  end
  reaped = reaped + #entries
  if redis.call('XLEN', stream) == 0 then redis.call('DEL', stream) end
end

local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - prune), 'LIMIT', 0, 1000)
local forget, forget_streams = {}, {}
for _, node in ipairs(gone) do
  -- an empty stream is a key still (XTRIM keeps it)
  if redis.call('XLEN', ARGV[5] .. node .. suffix) == 0 then
    forget[#forget + 1] = node
    forget_streams[#forget_streams + 1] = ARGV[5] .. node .. suffix
  end
end
if #forget > 0 then
  redis.call('DEL', unpack(forget_streams))
  redis.call('ZREM', KEYS[1], unpack(forget))
  redis.call('HDEL', KEYS[2], unpack(forget))
  redis.call('HDEL', KEYS[3], unpack(forget))
end
return {redis.call('ZCARD', KEYS[1]), reaped, redis.call('XLEN', ARGV[5] .. ARGV[1] .. suffix)}
