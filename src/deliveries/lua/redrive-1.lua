--[[
  Redrives failed deliveries: each goes back to `queued` with a fresh attempt
  budget and a new generation (its next job's id). (The caller has put
  their dispatches in the outbox first, until the jobs are queued.) The failed attempt's message id and
  receipts are dropped (its last error stays until the next outcome).

  KEYS[1] the first delivery's record (all the ids are one user's: one slot)
  ARGV[1] key prefix
  ARGV[2] now (epoch ms)
  ARGV[3...] delivery ids (up to 1000 a call)
  Returns per id {'redriven', generation, messenger}, or {its state}
  ('unknown' when there is no such delivery).

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
  if delivery[1] == 'failed' then
    move(id, dispatch_info(id)[1], delivery[2], 'failed', 'queued', now)
    redis.call('HSET', delivery_key, 'attempts', 0)
    -- A new attempt gets a new message id and receipts of its own; the old one's that come late are stale.
    redis.call('HDEL', delivery_key, 'provider_message_id', 'receipts', 'sent_as')
    local generation = redis.call('HINCRBY', delivery_key, 'gen', 1)
    out[#out + 1] = { 'redriven', generation, delivery[2] }
  else
    out[#out + 1] = { delivery[1] or 'unknown' }
  end
end
return out
