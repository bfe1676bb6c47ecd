-- The `deliver` node envelope, the one Lua definition of it (Swift's is NodeEnvelope in
-- Sources/Model/Delivery/NodeEnvelope.swift): 'deliver {uid}:{conn}[,…] {sequence}',
-- a newline, then the message object.
local function deliver_envelope(addresses, sequence, message)
  return 'deliver ' .. addresses .. ' ' .. sequence .. '\n' .. message
end
