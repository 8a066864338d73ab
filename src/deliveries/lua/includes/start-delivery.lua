--[[
  start_delivery(id, now, generation of the job): a pending delivery becomes
  `sending` and its attempt is counted; returns {'sending', attempts,
  messenger, address, text, user, contact or '', the dispatch's WhatsApp
  template (JSON) or ''}. Instead it ends `expired` past its
  dispatch's expires_at, or `cancelled` when a cancel came while a crashed
  attempt held it; returns {'ended', that state}. A finished one is left
  alone: {its state}. A job of another generation (the delivery was redriven,
  or its retry left a batch, since): {'stale'}. Unknown: false.
]]
--- @include "move-delivery"

local function start_delivery (id, now, generation)
  local delivery = redis.call('HMGET', key.delivery(id), 'state', 'gen', 'cancel', 'messenger', 'address', 'attempts', 'contact')
  local state = delivery[1]
  if not state then return false end
  if FINISHED[state] then return { state } end
  if (delivery[2] or '0') ~= generation then return { 'stale' } end
  local dispatch = dispatch_info(id)
  local user = dispatch[1]
  if dispatch[3] and tonumber(now) >= tonumber(dispatch[3]) then
    move(id, user, delivery[4], state, 'expired', now)
    return { 'ended', 'expired' }
  end
  if delivery[3] == '1' then
    move(id, user, delivery[4], state, 'cancelled', now)
    return { 'ended', 'cancelled' }
  end
  local attempts = tonumber(delivery[6] or '0') + 1
  move(id, user, delivery[4], state, 'sending', now, { 'attempts', attempts })
  return { 'sending', attempts, delivery[4], delivery[5], dispatch[2], user, delivery[7] or '', dispatch[4] or '' }
end
