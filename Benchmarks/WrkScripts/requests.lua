-- wrk script of scripts/bench-gateway.sh's HTTP phase: the requests of one kind, in
-- turn over the lines of a pairs file (`sender-id token recipient-id`, as
-- `gateway-bench listen` writes it), and one machine-readable summary line.
--
--   wrk -t1 -c50 -d10s -s requests.lua URL -- KIND [PAIRS_FILE]
--
-- KIND: `get` (the URL's path as it is), `offline` (POST /api/chat/chatGetmessageOffLine
-- with a sender's token: authenticated, empty result), `send` (POST
-- /api/chat/socket/sendmessage, a text from a sender to its recipient), `publish` (POST
-- /pub/c{index}: an nchan publisher, the same text to the pair's channel).
local requests = {}
local next_request = 1

local function pairs_of(path)
  local list = {}
  for line in io.lines(path) do
    local sender, token, recipient = line:match('^(%d+) (%S+) (%d+)$')
    if sender then list[#list + 1] = { sender = sender, token = token, recipient = recipient } end
  end
  assert(#list > 0, 'no pairs in ' .. path)
  return list
end

function init(args)
  local kind = args[1] or 'get'
  if kind == 'get' then
    requests[1] = wrk.format('GET', wrk.path)
    return
  end
  local list = pairs_of(assert(args[2], 'KIND ' .. kind .. ' needs a pairs file'))
  local json = { ['Content-Type'] = 'application/json' }
  for index, pair in ipairs(list) do
    local text = 'wrk message from ' .. pair.sender
    if kind == 'offline' then
      requests[index] = wrk.format('POST', '/api/chat/chatGetmessageOffLine',
        { ['Content-Type'] = 'application/json', token = pair.token }, '{}')
    elseif kind == 'send' then
      requests[index] = wrk.format('POST', '/api/chat/socket/sendmessage',
        { ['Content-Type'] = 'application/json', token = pair.token },
        '{"sendto_id":' .. pair.recipient .. ',"chatType":"single","type":"text","data":"' .. text .. '"}')
    elseif kind == 'publish' then
      requests[index] = wrk.format('POST', '/pub/c' .. (index - 1), { ['Content-Type'] = 'text/plain' }, text)
    else
      error('unknown KIND ' .. kind)
    end
  end
  -- Each thread starts at another pair.
  next_request = (id or 0) % #requests + 1
end

function setup(thread)
  thread:set('id', #threads_seen + 1)
  threads_seen[#threads_seen + 1] = thread
end
threads_seen = {}

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    'wrk requests=%d seconds=%.3f rate=%.0f status_errors=%d socket_errors=%d p50_ms=%.2f p99_ms=%.2f\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
