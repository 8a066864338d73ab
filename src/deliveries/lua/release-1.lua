--[[
  Releases a range of a dispatch's deliveries at its send_at: `scheduled`
  ones become `queued`.

  KEYS[1] the dispatch
  ARGV[1] key prefix
  ARGV[2] dispatch id
  ARGV[3] now (epoch ms)
  ARGV[4] first delivery index
  ARGV[5] last delivery index
  Returns (id, messenger, generation) of every delivery in the range that
  waits for a job, flat.

  The deliveries and the user's indexes are reached through the key helpers:
  one delivery key per index of the range.
]]
--- @include "includes/each-delivery"

local now = ARGV[3]
local out = {}
each_delivery(ARGV[2], ARGV[4], ARGV[5], { 'messenger', 'gen' }, function (id, delivery, user)
  if delivery[1] == 'scheduled' then move(id, user, delivery[2], 'scheduled', 'queued', now) end
  if delivery[1] == 'scheduled' or delivery[1] == 'queued' then
    out[#out + 1] = id
    out[#out + 1] = delivery[2]
    out[#out + 1] = delivery[3] or '0'
  end
end)
return out
