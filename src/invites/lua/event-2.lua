--[[
  Records a contact event (contact.connected) for the user's status webhook
  endpoints, as the delivery scripts record theirs (includes/move-delivery.lua
  of the deliveries): appended to the user's event stream only while the user
  has an endpoint, so a user without one keeps no stream.

  KEYS[1] the user's endpoint ids (key.webhookEndpoints(user))
  KEYS[2] the user's event stream (key.webhookEvents(user))
  ARGV[1] the event type
  ARGV[2] what it is about (the contact's name)
  ARGV[3] when (epoch ms)
  ARGV[4] the message's data, as JSON (a contact event carries its data: there is no record to read it from later)
  Returns 1 when the event was recorded, 0 when the user has no endpoint.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'type', ARGV[1], 'id', ARGV[2], 'at', ARGV[3], 'data', ARGV[4])
return 1
