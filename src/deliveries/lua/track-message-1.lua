--[[
  Remembers which delivery a messenger's message id belongs to, once the
  messenger accepted the send, so that its receipts find the delivery. A
  receipt can come before this (the messenger answers the send and reports on
  it at nearly the same time): such receipts wait in the same record
  (find-message-1.lua), and are returned here to be applied.

  KEYS[1] the message's record (key.receipt(messenger, message id))
  ARGV[1] delivery id
  ARGV[2] user
  ARGV[3] how long to keep it (s): as long as the delivery is kept
  Returns the receipts that came first, as a JSON array ('' when none).
]]
redis.call('HSET', KEYS[1], 'delivery', ARGV[1], 'user', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('HGET', KEYS[1], 'early') or ''
