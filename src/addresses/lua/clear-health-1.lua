--[[
  The address was heard alive at `at` (an accepted send, a delivered or read
  receipt, a subscription, a new connection) or its mark was reset: the
  failures up to then no longer count, and a failure told later but dated
  before it changes nothing (see mark-unreachable-1.lua for the fields).

  KEYS[1] the address's record (key.address(messenger, address))
  ARGV[1] when (epoch ms)
  ARGV[2] how long the record is kept after this (s)
  ARGV[3] '1': only an address with a record (heard alive after a send or a receipt:
          a record per address kept 90 days would be the cost of every send)
  Returns 1 when the address is still marked dead (by a failure after `at`), else 0.
]]
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = tonumber(ARGV[1])
local stored = redis.call('HMGET', KEYS[1], 'alive_at', 'dead_times')
local alive = math.max(at, tonumber(stored[1] or '-1'))
local kept = {}
if stored[2] then
  for _, t in ipairs(cjson.decode(stored[2])) do
    if t > alive then kept[#kept + 1] = t end
  end
end
if #kept == 0 then
  redis.call('HDEL', KEYS[1], 'dead_times', 'dead_at', 'dead_reason', 'dead_code')
  redis.call('HSET', KEYS[1], 'alive_at', string.format('%d', alive))
else
  redis.call('HSET', KEYS[1], 'alive_at', string.format('%d', alive), 'dead_times', cjson.encode(kept))
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if #kept == 0 then return 0 end
return 1
