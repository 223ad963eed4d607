-- wrk script: POST "balance" to /api/chat as one demo customer, each request in an existing
-- chat session. Arguments after `--`: the session pool file (one id a line), the number of
-- wrk threads, the phone number to act as.
--
-- Thread k takes every k-th line of the pool and cycles through its share in order, so a
-- session comes round again only after all the others of its thread were sent: with a pool
-- of 8 sessions per connection, two in-flight requests share a session only when one request
-- is slower than the 100+ sent after it on its thread.
-- done() prints one line "BENCH_RESULT {json}" that bench/wrk.py reads.

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path, count = args[1], tonumber(args[2])
   local phone = args[3]
   local seen = 0
   bodies = {}
   for line in io.lines(path) do
      if line ~= "" then
         if seen % count == index then
            table.insert(bodies, string.format(
               '{"text": "balance", "as": "%s", "session": "%s"}', phone, line))
         end
         seen = seen + 1
      end
   end
   if #bodies == 0 then
      error("no session in " .. path .. " for thread " .. index)
   end
   position = 0
   statuses = {}  -- non-2xx status -> count
   sample = ""  -- the body of this thread's first non-2xx answer
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   position = position % #bodies + 1
   return wrk.format(nil, "/api/chat", nil, bodies[position])
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      statuses[status] = (statuses[status] or 0) + 1
      if sample == "" then
         sample = string.format("HTTP %d: %s", status, string.sub(body or "", 1, 200))
      end
   end
end

local function json_string(text)
   return '"' .. string.gsub(text, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local merged, non2xx, sample_body = {}, 0, ""
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + count
         non2xx = non2xx + count
      end
      if sample_body == "" then
         sample_body = thread:get("sample")
      end
   end
   local parts = {}
   for status, count in pairs(merged) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "statuses": {%s}, ' ..
      '"sample": %s, "connect": %d, "read": %d, "write": %d, "timeout": %d, "p50_us": %d, ' ..
      '"p90_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, non2xx, table.concat(parts, ", "),
      json_string(sample_body), e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
