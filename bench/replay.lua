-- wrk script: send a pool of prepared requests (a signed webhook each), every one once.
-- Argument after `--`: the pool file, one request a line: PATH <TAB> HEADERS <TAB> BODY, the
-- headers "Name: value" pairs joined by the byte 0x1f. Thread k sends every k-th line in
-- order; a thread that runs out starts over (those are replays: the report says so).
-- done() prints one line "BENCH_RESULT {json}" that bench/wrk.py reads, as chat.lua's does.

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

local function split(text, separator)
   local parts, start = {}, 1
   while true do
      local at = string.find(text, separator, start, true)
      if not at then
         table.insert(parts, string.sub(text, start))
         return parts
      end
      table.insert(parts, string.sub(text, start, at - 1))
      start = at + 1
   end
end

function init(args)
   local path, count = args[1], tonumber(args[2])
   local seen = 0
   requests = {}
   for line in io.lines(path) do
      if line ~= "" then
         if seen % count == index then
            local fields = split(line, "\t")
            local headers = {}
            for _, pair in ipairs(split(fields[2], "\31")) do
               local name, value = string.match(pair, "^([^:]+): (.*)$")
               if name then headers[name] = value end
            end
            table.insert(requests, wrk.format("POST", fields[1], headers, fields[3]))
         end
         seen = seen + 1
      end
   end
   if #requests == 0 then
      error("no request in " .. path .. " for thread " .. index)
   end
   position = 0
   wrapped = 0
   statuses = {}
   sample = ""
end

function request()
   position = position + 1
   if position > #requests then
      position, wrapped = 1, wrapped + 1
   end
   return requests[position]
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
   local merged, non2xx, sample_body, replays = {}, 0, "", 0
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + count
         non2xx = non2xx + count
      end
      replays = replays + thread:get("wrapped")
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
      '"p90_us": %d, "p99_us": %d, "max_us": %d, "wrapped": %d}\n',
      summary.requests, summary.duration, non2xx, table.concat(parts, ", "),
      json_string(sample_body), e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      replays))
end
