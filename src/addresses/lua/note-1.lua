--[[
  Notes a time something happened to an address (a person wrote, subscribed,
  unsubscribed), keeping the latest: webhooks come out of order and repeated.

  KEYS[1] the address's record (key.address(messenger, address))
  ARGV[1] the field (inbound_at, subscribed_at, unsubscribed_at)
  ARGV[2] when (epoch ms)
  ARGV[3] how long the record is kept after this (s)
  Returns the time kept.
]]
local kept = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local at = tonumber(ARGV[2])
if at > kept then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  kept = at
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return kept
