-- wrk script: DescribeExecution of executions chosen at random, as a poller sends it (or
-- another operation that takes only an executionArn, named by OPERATION).
-- The ARNs come from the file named by ARNS_FILE (one per line); see bench/wrk/run.sh.
local arns = {}
for line in io.lines(os.getenv("ARNS_FILE")) do
  arns[#arns + 1] = line
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions." .. (os.getenv("OPERATION") or "DescribeExecution")

function request()
  local arn = arns[math.random(#arns)]
  return wrk.format(nil, nil, nil, '{"executionArn":"' .. arn .. '"}')
end

dofile(os.getenv("WRK_DIR") .. "/report.lua")
report(os.getenv("OPERATION") and "requests" or "describes")
