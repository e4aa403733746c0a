-- wrk script: DescribeExecution of executions chosen at random, as a poller sends it.
-- The ARNs come from the file named by ARNS_FILE (one per line); see bench/wrk/run.sh.
local arns = {}
for line in io.lines(os.getenv("ARNS_FILE")) do
  arns[#arns + 1] = line
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.DescribeExecution"

function request()
  local arn = arns[math.random(#arns)]
  return wrk.format(nil, nil, nil, '{"executionArn":"' .. arn .. '"}')
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then
      io.stderr:write("status " .. status .. ": " .. body .. "\n")
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("describes/s %.0f, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, non-2xx %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, summary.errors.status))
end
