-- The node envelope, the one Lua definition of it (Swift's is NodeEnvelope in
-- Sources/Model/Delivery/NodeEnvelope.swift): 'deliver {uid}:{conn}[,…][ {sequence}]',
-- a newline, then the message object; `sequence` nil: not numbered.
local function deliver_envelope(addresses, sequence, message)
  if sequence then
    return 'deliver ' .. addresses .. ' ' .. sequence .. '\n' .. message
  end
  return 'deliver ' .. addresses .. '\n' .. message
end

-- Hands an envelope to a process: an entry of its stream (`prefix` .. node) with the
-- field 'e', which the process reads with XREAD from the last entry it handled and
-- trims once handled (docs/architecture.md, *Delivery*). An entry a process left
-- behind and another took over carries 'from' = the process it was meant for
-- (`from`, nil otherwise): its addresses are that process's connections.
-- `suffix`: the partition's suffix on a partitioned layout (a process reads one stream
-- per partition, `prefix .. node .. suffix`); nil or '' on one Redis.
local function send_to_node(prefix, node, envelope, from, suffix)
  local stream = prefix .. node .. (suffix or '')
  if from then
    redis.call('XADD', stream, '*', 'e', envelope, 'from', from)
  else
    redis.call('XADD', stream, '*', 'e', envelope)
  end
end
