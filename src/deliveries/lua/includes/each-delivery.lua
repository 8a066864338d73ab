--[[
  each_delivery(dispatch id, first index, last index, fields, fn): calls
  fn(id, {state, fields...}, user) for each delivery of the dispatch that
  still exists, from index `first` to `last`.
]]
--- @include "move-delivery"

local function each_delivery (dispatch_id, first, last, fields, fn)
  local user = redis.call('HGET', key.dispatch(dispatch_id), 'user')
  if not user then return end
  for i = tonumber(first), tonumber(last) do
    local id = delivery_id(dispatch_id, i)
    local delivery = redis.call('HMGET', key.delivery(id), 'state', unpack(fields))
    if delivery[1] then fn(id, delivery, user) end
  end
end
