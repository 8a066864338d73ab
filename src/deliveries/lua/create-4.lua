--[[
  Writes a dispatch and all its deliveries (includes/write-deliveries). (The
  caller has put the dispatch in the outbox first: the outbox sweep queues it
  should the caller die before it does, and drops it should this script never
  have run.)

  KEYS[1] the dispatch
  KEYS[2] the user's stats
  KEYS[3] the user's dispatches
  KEYS[4] the user's finished index of `suppressed`
  ARGV[1] key prefix
  ARGV[2] dispatch id
  ARGV[3] user
  ARGV[4] now (epoch ms)
  ARGV[5] text
  ARGV[6] send_at (epoch ms)
  ARGV[7] expires_at (epoch ms; '' = none)
  ARGV[8] dedup window (s; 0 = off)
  ARGV[9] the text's fingerprint
  ARGV[10] the deliveries as one JSON array [contact, messenger, address, due_at, suppress, contact, ...]
          (suppress: '' or the reason it is written `suppressed`, address_unreachable)
          (one argument however many: a call with 300,000 arguments overflows the client's stack)
  ARGV[11] the WhatsApp template, as JSON ('' = none)
  ARGV[12] more dispatch fields, as a JSON array [field, value, ...]
  Returns the number of deliveries written `suppressed`.

  The delivery and dedup keys are built here, through the key helpers: one
  pair per delivery, up to 100,000, is more than a call should carry.
]]
--- @include "includes/write-deliveries"

return write_deliveries({
  dispatch_key = KEYS[1], stats_key = KEYS[2], dispatches_key = KEYS[3], suppressed_key = KEYS[4],
  dispatch_id = ARGV[2], user = ARGV[3], created_at = ARGV[4], now = ARGV[4], text = ARGV[5],
  send_at = ARGV[6], expires_at = ARGV[7], window = tonumber(ARGV[8]), fingerprint = ARGV[9],
  deliveries = cjson.decode(ARGV[10]), template = ARGV[11], more = cjson.decode(ARGV[12])
})
