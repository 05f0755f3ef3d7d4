-- wrk script for benches/service_scale.sh and benches/proxy_peers.sh: prints one RESULT line
-- (requests/s, p50 and p99 in ms, answers that were not 2xx, socket errors).
--
-- With WRK_PATHS=TEMPLATE, WRK_IDS=N and WRK_DIGITS=LO-HI, each request goes to TEMPLATE with
-- `{id}` replaced by a random one of the N connections examples/seed_connections.rs stores
-- (c0000000, c0000001, ...) whose last digit is LO to HI (which picks the provider: 0-4
-- zoho-crm, 5 bench-api).

local template = os.getenv("WRK_PATHS")
local ids = tonumber(os.getenv("WRK_IDS") or "0")
local lo, hi = string.match(os.getenv("WRK_DIGITS") or "0-4", "^(%d)-(%d)$")
lo, hi = tonumber(lo), tonumber(hi)
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

-- Defined only for random paths: without it wrk sends its one prepared request and spends no
-- Lua call per request, which leaves more of a small machine to the server measured.
if template and ids >= 10 then
  function request()
    local n = math.random(0, math.floor(ids / 10) - 1) * 10 + math.random(lo, hi)
    local path = template:gsub("{id}", string.format("c%07d", n))
    return wrk.format(nil, path)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.requests,
    errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
