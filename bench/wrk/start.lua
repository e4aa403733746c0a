-- wrk script: unnamed StartExecution requests of one state machine, as an AWS SDK sends them.
-- The machine's ARN comes from the environment (MACHINE_ARN); see bench/wrk/run.sh.
local arn = os.getenv("MACHINE_ARN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartExecution"
wrk.body = '{"stateMachineArn":"' .. arn .. '","input":"{\\"expirydate\\":11,\\"a\\":1233333}"}'

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
  io.write(string.format("starts/s %.0f, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, non-2xx %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, summary.errors.status))
end
