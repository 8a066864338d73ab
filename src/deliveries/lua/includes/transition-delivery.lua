--[[
  transition_delivery(id, now, states it may leave (comma-separated), new
  state, the generation it must be in ('' = any), a new generation to give it
  ('' = keep), {field, value, ...} to set).
  A delivery going back to `queued` for a retry ends `cancelled` instead when
  a cancel came while it was being sent, and `expired` when its dispatch's
  expires_at has passed. Returns {1, previous state, new state} when applied,
  {0, current state} when not (another state, or another generation); false
  if unknown.
]]
--- @include "move-delivery"

local function transition_delivery (id, now, from, to, generation, next_generation, fields)
  local delivery = redis.call('HMGET', key.delivery(id), 'state', 'gen', 'cancel', 'messenger')
  local state = delivery[1]
  if not state then return false end
  if not string.find(',' .. from .. ',', ',' .. state .. ',', 1, true) then return { 0, state } end
  if generation ~= '' and (delivery[2] or '0') ~= generation then return { 0, state } end
  local dispatch = dispatch_info(id)
  if to == 'queued' then
    if delivery[3] == '1' then
      to = 'cancelled'
    elseif dispatch[3] and tonumber(now) >= tonumber(dispatch[3]) then
      to = 'expired'
    end
  end
  if next_generation ~= '' then
    fields[#fields + 1] = 'gen'
    fields[#fields + 1] = next_generation
  end
  move(id, dispatch[1], delivery[4], state, to, now, fields)
  return { 1, state, to }
end
