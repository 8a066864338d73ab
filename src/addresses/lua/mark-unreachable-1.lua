--[[
  Marks an address dead (unreachable): a failure said so at `at`. Receipts
  and callbacks come out of order and repeated, so the record keeps times,
  not a flag, and its end state does not depend on the order of what it is
  told (test/addresses/address-health.test.ts):
    alive_at    the latest time the address was heard alive (clear-health-1.lua)
    dead_times  JSON array of the distinct times failures said it was dead, after
                alive_at, ascending, the latest MAX_TIMES of them: their number is the count
    dead_at, dead_reason, dead_code   the latest of those failures (a tie: the greater reason and code)
  A failure no later than alive_at is older than the news that the address
  works: it changes nothing.

  KEYS[1] the address's record (key.address(messenger, address))
  ARGV[1] when (epoch ms)
  ARGV[2] the reason (blocked, not_started, chat_not_found, not_on_whatsapp, ...)
  ARGV[3] the messenger's code
  ARGV[4] how long the record is kept after this (s)
  Returns 1 when the failure counts, 0 when it is older than alive_at.
]]
local MAX_TIMES = 50
local at, reason, code = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local stored = redis.call('HMGET', KEYS[1], 'alive_at', 'dead_times', 'dead_at', 'dead_reason', 'dead_code')
redis.call('EXPIRE', KEYS[1], ARGV[4])
if at <= tonumber(stored[1] or '-1') then return 0 end

local times = stored[2] and cjson.decode(stored[2]) or {}
local place = #times + 1
for i, t in ipairs(times) do
  if t == at then
    place = nil
    break
  end
  if t > at then
    place = i
    break
  end
end
if place then table.insert(times, place, at) end
while #times > MAX_TIMES do table.remove(times, 1) end

local fields = { 'dead_times', cjson.encode(times) }
local latest = tonumber(stored[3] or '-1')
if at > latest or (at == latest and reason .. ':' .. code > (stored[4] or '') .. ':' .. (stored[5] or '')) then
  fields[3], fields[4], fields[5], fields[6], fields[7], fields[8] = 'dead_at', ARGV[1], 'dead_reason', reason, 'dead_code', code
end
redis.call('HSET', KEYS[1], unpack(fields))
return 1
