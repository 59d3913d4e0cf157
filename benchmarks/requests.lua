-- wrk script: sends the requests listed in a Lua file written by benchmarks/load.py, and prints its
-- figures as one JSON line at the end.
--
--   wrk -t2 -c64 -d10s -s benchmarks/requests.lua http://127.0.0.1:8000 -- requests-file.lua cycle
--
-- The requests file returns a table of {method, path, content type, body (or nil)}. "cycle" sends
-- them in order (each thread from its own starting point), "random" picks one at random each time.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local entries = dofile(args[1])
  pick_at_random = args[2] == "random"
  prepared = {}
  for index, entry in ipairs(entries) do
    prepared[index] = wrk.format(entry[1], entry[2], { ["Content-Type"] = entry[3] }, entry[4])
  end
  -- Threads start far apart in the list, so that they do not send the same texts at once.
  position = ((id - 1) * 7919) % #prepared
  math.randomseed(id)
  statuses = {}
end

function request()
  if pick_at_random then
    return prepared[math.random(#prepared)]
  end
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local counts = {}
  for status, count in pairs(totals) do
    table.insert(counts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "statuses": {%s}, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d}}\n',
    summary.requests, summary.duration, table.concat(counts, ", "),
    errors.connect, errors.read, errors.write, errors.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99)
  ))
end
