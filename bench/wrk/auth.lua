-- wrk script for bench/auth.py: authentication requests with prebuilt bodies.
--
-- Environment:
--   BENCH_TARGET  the operation (InitiateAuth, GetUser), sent as X-Amz-Target
--   BENCH_BODIES  a file with one JSON request body per line, one per user (bench/auth.py writes
--                 it: USER_PASSWORD_AUTH with the user's name and password, REFRESH_TOKEN_AUTH
--                 with the user's refresh token, GetUser with the user's access token); every
--                 request takes a random line, i.e. a random user
--   BENCH_EXPECT  text every 2xx answer must contain (e.g. "AccessToken"); 2xx answers without
--                 it are counted as "wrong"
-- No Authorization header is sent: these operations are public (the app calls them unsigned).
-- done() prints two machine-readable lines:
--   BENCH_RESULT {"requests": .., "rps": .., "p50_ms": .., "p99_ms": .., "non2xx": .., ..}
--   BENCH_FIRST_ERROR <status> <start of the body of the first non-2xx or wrong response>

local function need(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

local bodies = {}
for line in io.lines(need("BENCH_BODIES")) do
  if line ~= "" then
    table.insert(bodies, line)
  end
end
if #bodies == 0 then
  error("BENCH_BODIES holds no request bodies")
end
local expect = need("BENCH_EXPECT")
math.randomseed(os.time())

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService." .. need("BENCH_TARGET")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread globals (each wrk thread has its own Lua state); done() collects them.
non2xx = 0
wrong = 0 -- 2xx answers without BENCH_EXPECT
first_error = ""

function request()
  return wrk.format(nil, nil, nil, bodies[math.random(1, #bodies)])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif string.find(body or "", expect, 1, true) == nil then
    wrong = wrong + 1
  else
    return
  end
  if first_error == "" then
    first_error = status .. " " .. string.sub(body or "", 1, 300)
  end
end

function done(summary, latency, requests)
  local totals = { non2xx = 0, wrong = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for key, value in pairs(totals) do
      totals[key] = value + (thread:get(key) or 0)
    end
    if first == "" then
      first = thread:get("first_error") or ""
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "rps": %.3f, "p50_ms": %.3f, '
      .. '"p99_ms": %.3f, "non2xx": %d, "status_errors": %d, "socket_errors": %d, "wrong": %d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, totals.non2xx, e.status,
    e.connect + e.read + e.write + e.timeout, totals.wrong
  ))
  io.write("BENCH_FIRST_ERROR " .. string.gsub(first, "[\r\n]", " ") .. "\n")
end
