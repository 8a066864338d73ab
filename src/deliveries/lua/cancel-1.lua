--[[
  Cancels deliveries: every one not yet sent ends `cancelled`; one being sent
  is marked so that it ends `cancelled` rather than retried.

  KEYS[1] the first delivery's record (all the ids are one user's: one slot)
  ARGV[1] key prefix
  ARGV[2] now (epoch ms)
  ARGV[3...] delivery ids (up to 1000 a call)
  Returns per id: 'cancelled' (by this call), 'in_flight', 'finished:<state>'
  when it had already ended, or 'unknown'.

  The other deliveries, their dispatches and the user's indexes are found
  from the ids, through the key helpers.
]]
--- @include "includes/move-delivery"

local now = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local delivery_key = key.delivery(id)
  local delivery = redis.call('HMGET', delivery_key, 'state', 'messenger')
  local state = delivery[1]
  if not state then
    out[#out + 1] = 'unknown'
  elseif state == 'scheduled' or state == 'queued' then
    move(id, dispatch_info(id)[1], delivery[2], state, 'cancelled', now)
    out[#out + 1] = 'cancelled'
  elseif state == 'sending' then
    redis.call('HSET', delivery_key, 'cancel', '1')
    out[#out + 1] = 'in_flight'
  else
    out[#out + 1] = 'finished:' .. state
  end
end
return out
