--[[
  Expires a range of a dispatch's deliveries at its expires_at: those still
  waiting (scheduled or queued) end `expired`. One being sent finishes its
  attempt, and ends `expired` if it would be retried (transition-2.lua).

  KEYS[1] the dispatch
  ARGV[1] key prefix
  ARGV[2] dispatch id
  ARGV[3] now (epoch ms)
  ARGV[4] first delivery index
  ARGV[5] last delivery index
  ARGV[6] the expire job's revision of the dispatch ('' = any): a job of an
          older one (an edit since, replace-4.lua) expires nothing
  Returns how many expired.

  The deliveries and the user's indexes are reached through the key helpers:
  one delivery key per index of the range.
]]
--- @include "includes/each-delivery"

local now = ARGV[3]
local expired = 0
if ARGV[6] ~= '' and ARGV[6] ~= (redis.call('HGET', KEYS[1], 'rev') or '0') then return 0 end
each_delivery(ARGV[2], ARGV[4], ARGV[5], { 'messenger' }, function (id, delivery, user)
  if delivery[1] == 'scheduled' or delivery[1] == 'queued' then
    move(id, user, delivery[2], delivery[1], 'expired', now)
    expired = expired + 1
  end
end)
return expired
