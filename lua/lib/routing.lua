--@include clock
--@include envelope
--@include offline_queue
-- Routing of a message to its users' delivery targets (docs/architecture.md, *Delivery*).
-- A target '{node}:{conn}' in online_{uid} counts only if its process's heartbeat in
-- chat:nodes is recent: a killed process stops being a target after `dead_after` ms, and
-- its stale online_{uid} is removed here. A target on the caller's own process
-- (`here`) is returned to the caller, which pushes it without a round trip; one elsewhere
-- gets the message as an entry of that process's stream (`prefix` .. node) only, which
-- waits there until the process reads it (or a live one reaps it when it is dead).
-- Entries for a process are numbered (the deliveries hash); a local target comes back
-- with the number of the last one sent to the caller's process, which it pushes first.
-- A dead process whose stream still holds deliveries gets this one behind them (they
-- are reaped in order). Otherwise, no live target: the message goes to the offline
-- queue, capped
-- (lib/offline_queue.lua; `queue_cap` is its settings table, from offline_settings).
-- On a partitioned layout every key here is the partition's own (its `nodes` and
-- `deliveries`, and each process's stream there: `prefix .. node .. suffix`, `suffix`
-- the partition's, nil or '' on one Redis): a process reads its stream in every
-- partition, and numbers the deliveries of each partition apart (DeliveryOrder).

-- One user. `excluded`: a target the caller found gone (or nil); `now`: the time in ms
-- when the caller has it (or nil); `suffix`: the partition's (above). Returns 'local', conn,
-- last sequence published here | 'routed', node | 'queued', entries dropped by the cap.
local function route_one(uid, message, online, queue, nodes, deliveries, here, dead_after, queue_cap, prefix,
                         excluded, now, suffix)
  suffix = suffix or ''
  local target = redis.call('GET', online)
  if target and target ~= excluded then
    local node, conn = string.match(target, '^([^:]+):(.+)$')
    local beat = node and redis.call('ZSCORE', nodes, node)
    now = now or now_ms()
    if beat and now - tonumber(beat) <= dead_after then
      if node == here then
        return 'local', conn, tonumber(redis.call('HGET', deliveries, node) or '0')
      end
      local sequence = redis.call('HINCRBY', deliveries, node, 1)
      send_to_node(prefix, node, deliver_envelope(uid .. ':' .. conn, sequence, message), nil, suffix)
      return 'routed', node
    elseif node and node ~= here and redis.call('XLEN', prefix .. node .. suffix) > 0 then
      -- its process is dead, but what was sent to it waits in its stream to be reaped:
      -- this one goes behind, unnumbered, so that the user's messages stay in order
      send_to_node(prefix, node, deliver_envelope(uid .. ':' .. conn, nil, message), nil, suffix)
      return 'routed', node
    else
      -- its process is dead: the key would only expire later
      redis.call('DEL', online)
    end
  end
  return 'queued', enqueue(queue, message, queue_cap)
end

-- Many users, user i being ARGV[uid_base + i] with online_{uid} in KEYS[key_base + 2i - 1]
-- and its offline queue in KEYS[key_base + 2i]; `skip`: a uid left out (or nil). Targets
-- on another live process get ONE stream entry per process, carrying that process's
-- recipients. Returns the local addresses '{uid}:{conn},…' (or ''), users routed to
-- other processes, users queued, entries dropped by the queue cap, and the last sequence
-- sent to the caller's process (0 when none is local). `suffix`: as route_one's.
local function route_many(message, count, uid_base, key_base, nodes, deliveries, here, dead_after, queue_cap, prefix,
                          skip, now, suffix)
  suffix = suffix or ''
  local alive, behind = {}, {}
  local locals, remote, remote_nodes, offline = {}, {}, {}, {}
  for i = 1, count do
    local uid = ARGV[uid_base + i]
    if uid ~= skip then
      local online = KEYS[key_base + 2 * i - 1]
      local target = redis.call('GET', online)
      local node, conn
      if target then
        node, conn = string.match(target, '^([^:]+):(.+)$')
      end
      if node then
        if alive[node] == nil then
          local beat = redis.call('ZSCORE', nodes, node)
          alive[node] = beat ~= false and now - tonumber(beat) <= dead_after
          -- dead, with deliveries waiting in its stream to be reaped: behind them (route_one)
          behind[node] = not alive[node] and node ~= here and redis.call('XLEN', prefix .. node .. suffix) > 0
        end
        if not alive[node] and not behind[node] then
          redis.call('DEL', online)
          node = nil
        end
      end
      if not node then
        offline[#offline + 1] = i
      elseif node == here then
        locals[#locals + 1] = uid .. ':' .. conn
      else
        if not remote[node] then
          remote[node] = {}
          remote_nodes[#remote_nodes + 1] = node
        end
        local list = remote[node]
        list[#list + 1] = i
        list[#list + 1] = uid .. ':' .. conn
      end
    end
  end

  local published = 0
  for _, node in ipairs(remote_nodes) do
    local list = remote[node]
    local addresses = {}
    for j = 2, #list, 2 do addresses[#addresses + 1] = list[j] end
    local sequence = nil
    if alive[node] then sequence = redis.call('HINCRBY', deliveries, node, 1) end
    send_to_node(prefix, node, deliver_envelope(table.concat(addresses, ','), sequence, message), nil, suffix)
    published = published + #addresses
  end

  local dropped = 0
  for _, i in ipairs(offline) do
    dropped = dropped + enqueue(KEYS[key_base + 2 * i], message, queue_cap, #offline)
  end
  local after = #locals > 0 and tonumber(redis.call('HGET', deliveries, here) or '0') or 0
  return table.concat(locals, ','), published, #offline, dropped, after
end
