-- wrk script: unnamed StartExecution requests of one state machine, as an AWS SDK sends them.
-- The machine's ARN comes from the environment (MACHINE_ARN), and report.lua from WRK_DIR;
-- see bench/wrk/run.sh.
local arn = os.getenv("MACHINE_ARN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartExecution"
wrk.body = '{"stateMachineArn":"' .. arn .. '","input":"{\\"expirydate\\":11,\\"a\\":1233333}"}'

dofile(os.getenv("WRK_DIR") .. "/report.lua")
report("starts")
