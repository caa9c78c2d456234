-- wrk script for bench/run.py: every request is one cognito-idp call (AWS JSON 1.1).
--
-- Environment: BENCH_TARGET (operation name, e.g. DescribeUserPool), BENCH_BODY (its JSON
-- body) and BENCH_AUTH (an Authorization header; the servers do not check signatures).
-- done() prints two machine-readable lines:
--   BENCH_RESULT {"requests": .., "rps": .., "p50_ms": .., "p99_ms": .., "non2xx": .., ...}
--   BENCH_FIRST_ERROR <status> <start of the body of the first non-2xx response>

local function need(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

wrk.method = "POST"
wrk.body = need("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService." .. need("BENCH_TARGET")
wrk.headers["Authorization"] = need("BENCH_AUTH")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per-thread globals (each wrk thread has its own Lua state); done() collects them.
non2xx = 0
first_error = ""

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    if first == "" then
      first = thread:get("first_error") or ""
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "rps": %.3f, "p50_ms": %.3f, '
      .. '"p99_ms": %.3f, "non2xx": %d, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad, e.status,
    e.connect + e.read + e.write + e.timeout
  ))
  io.write("BENCH_FIRST_ERROR " .. string.gsub(first, "[\r\n]", " ") .. "\n")
end
