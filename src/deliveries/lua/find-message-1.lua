--[[
  The delivery a receipt is about, by the messenger's message id. When the
  id is not known yet, the receipt waits in the message's record until the
  sender records the acceptance (track-message-1.lua) or the wait ends: the
  id may be of a send still being recorded, or of a message that is not ours.

  KEYS[1] the message's record (key.receipt(messenger, message id))
  ARGV[1] the receipt, as JSON: [status, epoch ms, code or null, error text or null]
  ARGV[2] how long a receipt may wait (s)
  Returns {delivery id, user, receipts that came first as a JSON array or ''},
  or false when the receipt was set aside to wait. (Once the delivery is
  known no receipt waits any more, so the caller may drop the early ones
  after it applied them.)
]]
local found = redis.call('HMGET', KEYS[1], 'delivery', 'user', 'early')
if found[1] then return { found[1], found[2], found[3] or '' } end
local early = found[3] and cjson.decode(found[3]) or {}
early[#early + 1] = cjson.decode(ARGV[1])
redis.call('HSET', KEYS[1], 'early', cjson.encode(early))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return false
