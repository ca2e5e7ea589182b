-- wrk script for bench/soak: mixed reads and writes. Six requests in ten read
-- (the feed, a point lookup, a user list), four write a comment as the soak user.
-- Every acknowledged write names its comment, so the script can check afterwards
-- that each one is in the database; errors are counted by kind.
local token = os.getenv("TOKEN")
local posts = {}
for line in io.lines(os.getenv("POSTS_FILE")) do table.insert(posts, line) end

local function body_of(file)
  local f = assert(io.open(file, "r")); local text = f:read("*a"); f:close(); return text
end
local reads = {
  body_of(os.getenv("Q1")), body_of(os.getenv("Q4")), body_of(os.getenv("Q4")),
  body_of(os.getenv("Q4")), body_of(os.getenv("Q2")), body_of(os.getenv("Q1")),
}

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  acked = {}
  errors = {}
end

local read_headers = { ["Content-Type"] = "application/json" }
local write_headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }

function request()
  n = n + 1
  local slot = n % 10
  if slot < 6 then
    return wrk.format("POST", "/graphql", read_headers, reads[slot + 1])
  end
  local post = posts[(n % #posts) + 1]
  local body = string.format(
    '{"query":"mutation($i: CreateCommentInput!) { createComment(input: $i) { id body } }","variables":{"i":{"postId":"%s","body":"soak %d-%d"}}}',
    post, id, n)
  return wrk.format("POST", "/graphql", write_headers, body)
end

local function count(kind)
  errors[kind] = (errors[kind] or 0) + 1
end

function response(status, headers, body)
  if status ~= 200 then
    count("http_" .. status)
    return
  end
  if string.find(body, '"errors"', 1, true) then
    count(string.match(body, '"code":"([A-Z_]+)"') or "no_code")
    return
  end
  local created = string.match(body, '"createComment":{"id":"([^"]+)"')
  if created then table.insert(acked, created) end
end

function done(summary, latency, requests)
  local all, kinds = {}, {}
  for _, thread in ipairs(threads) do
    local list = thread:get("acked")
    for i = 1, #list do table.insert(all, list[i]) end
    local errs = thread:get("errors")
    for kind, c in pairs(errs) do kinds[kind] = (kinds[kind] or 0) + c end
  end
  local out = assert(io.open(os.getenv("ACKED_FILE"), "w"))
  for _, gid in ipairs(all) do out:write(gid, "\n") end
  out:close()
  local e = summary.errors
  kinds.connect, kinds.read, kinds.write, kinds.timeout = e.connect, e.read, e.write, e.timeout
  io.write(string.format("SOAK requests=%d rps=%.1f p50=%.2f p99=%.2f acked_writes=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, #all))
  for kind, c in pairs(kinds) do
    if c > 0 then io.write(string.format("ERRORS %s=%d\n", kind, c)) end
  end
end
