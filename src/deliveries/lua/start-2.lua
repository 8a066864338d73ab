--[[
  Starts an attempt at one delivery (see includes/start-delivery).

  KEYS[1] the delivery
  KEYS[2] its dispatch
  ARGV[1] key prefix
  ARGV[2] delivery id
  ARGV[3] now (epoch ms)
  ARGV[4] the job's generation
  Returns start_delivery's answer.

  The user's stats and finished indexes are reached through the key helpers:
  the user is known only from the dispatch record.
]]
--- @include "includes/start-delivery"

return start_delivery(ARGV[2], ARGV[3], ARGV[4])
