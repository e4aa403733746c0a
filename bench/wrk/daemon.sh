# Sourced by run.sh and instructions.sh: the daemon started in the background on a random port
# (`port`, `pid`), stopped when the script exits (its data directory `data` removed unless
# KEEP_DATA=1), and the machine the load starts, which waits ten days (MACHINE_ARN).
#   start_daemon TRIES COMMAND...   start COMMAND; wait up to TRIES tenths of a second for /ready
#   create_machine                  create the machine; export MACHINE_ARN and WRK_DIR
port=$((20000 + RANDOM % 20000))
start_daemon() {
  local tries="$1"
  shift
  "$@" > "$data/log" 2>&1 &
  pid=$!
  trap stop_daemon EXIT
  for _ in $(seq "$tries"); do curl -sf "http://127.0.0.1:$port/ready" > /dev/null && break; sleep 0.1; done
}
stop_daemon() {
  local rc=$?
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  if [ "${KEEP_DATA:-0}" = 1 ]; then echo "data kept in $data"; else rm -rf "$data"; fi
  exit "$rc"
}
call() {
  curl -sf "http://127.0.0.1:$port/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H "X-Amz-Target: AWSStepFunctions.$1" -d "$2"
}
create_machine() {
  local def body
  def='{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":864000,"Next":"Done"},"Done":{"Type":"Succeed"}}}'
  body=$(python3 -c 'import json,sys; print(json.dumps({"name":"wrk","definition":sys.argv[1],"roleArn":"arn:aws:iam::123456789012:role/wrk"}))' "$def")
  MACHINE_ARN=$(call CreateStateMachine "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
  export MACHINE_ARN
  export WRK_DIR="$here"
}
