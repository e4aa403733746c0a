-- What start.lua and describe.lua share: count the responses that are not 200 (printing the
-- first three) and print one line of figures at the end, named `what`.
-- Loaded by dofile from the directory in WRK_DIR (bench/wrk/run.sh sets it).
function report(what)
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
    io.write(string.format("%s/s %.0f, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, non-2xx %d\n",
      what, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, summary.errors.status))
  end
end
