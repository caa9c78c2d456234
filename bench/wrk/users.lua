-- wrk script for bench/users.py: user-population benchmark against one user pool.
--
-- Environment: BENCH_MODE, BENCH_POOL (user pool id), BENCH_AUTH (an Authorization header; the
-- servers do not check signatures) and, per mode:
--   create  AdminCreateUser of u<N> (email u<N>@example.com, given_name, MessageAction SUPPRESS,
--           TemporaryPassword Passw0rd!).  N starts at BENCH_START and every call of request()
--           takes the next number, so no username is ever sent twice (wrk calls request() once
--           before the run to check the request without sending it: that number is skipped).
--           After BENCH_NEED successful responses (or BENCH_MAX_ERRORS non-2xx ones) the thread
--           stops and BENCH_DONE_FILE is created; bench/users.py then interrupts wrk (SIGINT),
--           whose main thread otherwise sleeps for the whole -d duration.
--   get     AdminGetUser of u<i>, i = math.random(1, BENCH_COUNT).
--   list    ListUsers with Filter email = "u<i>@example.com" and Limit 10, i random as above;
--           responses that do not hold exactly one user are counted as "wrong".
-- Run it with one wrk thread (-t1): the numbering is per thread.
-- done() prints two machine-readable lines:
--   BENCH_RESULT {"requests": .., "rps": .., "p50_ms": .., "non2xx": .., "sent": .., "ok": .., ..}
--   BENCH_FIRST_ERROR <status> <start of the body of the first non-2xx response>

local function need(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

local targets = {
  create = "AdminCreateUser",
  get = "AdminGetUser",
  list = "ListUsers",
}
local mode = need("BENCH_MODE")
local pool = need("BENCH_POOL")
if targets[mode] == nil then
  error("BENCH_MODE must be create, get or list, not " .. mode)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService." .. targets[mode]
wrk.headers["Authorization"] = need("BENCH_AUTH")

local start, target, max_errors, done_file, count = 0, 0, 0, "", 0
if mode == "create" then
  start = tonumber(need("BENCH_START"))
  target = tonumber(need("BENCH_NEED"))
  max_errors = tonumber(need("BENCH_MAX_ERRORS"))
  done_file = need("BENCH_DONE_FILE")
else
  count = tonumber(need("BENCH_COUNT"))
  math.randomseed(os.time())
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread globals (each wrk thread has its own Lua state); done() collects them.
sent = 0 -- request() calls, i.e. numbers taken (create mode)
ok = 0 -- 2xx responses
non2xx = 0
wrong = 0 -- list mode: 2xx responses without exactly one user
first_error = ""
local stopped = false

local create_body = '{"UserPoolId":"%s","Username":"u%d","TemporaryPassword":"Passw0rd!",'
  .. '"MessageAction":"SUPPRESS","UserAttributes":[{"Name":"email","Value":"u%d@example.com"},'
  .. '{"Name":"given_name","Value":"Given%d"}]}'
local get_body = '{"UserPoolId":"%s","Username":"u%d"}'
local list_body = '{"UserPoolId":"%s","Filter":"email = \\"u%d@example.com\\"","Limit":10}'

function request()
  local body
  if mode == "create" then
    local n = start + sent
    sent = sent + 1
    body = string.format(create_body, pool, n, n, n)
  elseif mode == "get" then
    body = string.format(get_body, pool, math.random(1, count))
  else
    body = string.format(list_body, pool, math.random(1, count))
  end
  return wrk.format(nil, nil, nil, body)
end

local function finish()
  stopped = true
  local file = io.open(done_file, "w")
  if file ~= nil then
    file:close()
  end
  wrk.thread:stop()
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 300)
    end
  else
    ok = ok + 1
    if mode == "list" then
      local _, users = string.gsub(body, '"Username"%s*:', "")
      if users ~= 1 then
        wrong = wrong + 1
      end
    end
  end
  if mode == "create" and not stopped and (ok >= target or non2xx >= max_errors) then
    finish()
  end
end

function done(summary, latency, requests)
  local totals = { sent = 0, ok = 0, non2xx = 0, wrong = 0 }
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
      .. '"p99_ms": %.3f, "non2xx": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"sent": %d, "ok": %d, "wrong": %d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, totals.non2xx, e.status,
    e.connect + e.read + e.write + e.timeout, totals.sent, totals.ok, totals.wrong
  ))
  io.write("BENCH_FIRST_ERROR " .. string.gsub(first, "[\r\n]", " ") .. "\n")
end
