--[[
  Deletes finished deliveries of one user and one finished state, with their
  counts; a dispatch left with no deliveries goes too. The records that map
  their message ids to them are in other slots: the caller deletes those. Ids whose record is
  gone leave the index.

  KEYS[1] the user's stats
  KEYS[2] the user's finished index of that state
  KEYS[3] the user's dispatches
  ARGV[1] key prefix
  ARGV[2] finished before (epoch ms; '' = any time)
  ARGV[3] the state
  ARGV[4...] ids from that state's index (up to 1000 a call)
  Returns {the number deleted, messenger, message id, messenger, message id...}
  of the deleted deliveries that had one.

  The deliveries and their dispatches are found from the ids, through the
  key helpers.
]]
--- @include "keys"
--- @include "delivery-model"

local stats_key, finished_key, dispatches_key = KEYS[1], KEYS[2], KEYS[3]
local before, state = ARGV[2], ARGV[3]
local purged, messages = 0, {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local delivery_key = key.delivery(id)
  local delivery = redis.call('HMGET', delivery_key, 'state', 'finished_at', 'messenger', 'provider_message_id', 'updated_at')
  -- Finished when it was last changed, unless a later change (a receipt) wrote down when (move-delivery).
  local finished_at = delivery[2] or delivery[5]
  if not delivery[1] then
    redis.call('ZREM', finished_key, id)
  elseif delivery[1] == state and (before == '' or tonumber(finished_at) < tonumber(before)) then
    local dispatch_id = dispatch_of(id)
    local dispatch_key = key.dispatch(dispatch_id)
    redis.call('DEL', delivery_key)
    if delivery[4] then
      messages[#messages + 1] = delivery[3]
      messages[#messages + 1] = delivery[4]
    end
    redis.call('ZREM', finished_key, id)
    redis.call('HINCRBY', stats_key, 'n:' .. state, -1)
    redis.call('HINCRBY', dispatch_key, 'n:' .. state, -1)
    redis.call('HINCRBY', dispatch_key, 'n:' .. delivery[3] .. ':' .. state, -1)
    if redis.call('HINCRBY', dispatch_key, 'total', -1) <= 0 then
      redis.call('DEL', dispatch_key)
      redis.call('ZREM', dispatches_key, dispatch_id)
    end
    purged = purged + 1
  end
end
return { purged, unpack(messages) }
