-- Each request a new signup (unique email per thread and request), token from the environment.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
local token = os.getenv("TOKEN")
request = function()
  counter = counter + 1
  local body = string.format('{"email":"wrk-%d-%d-%d@example.com","displayName":"Load Test"}', tid, os.time(), counter)
  return wrk.format("POST", "/webhooks/signup", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
