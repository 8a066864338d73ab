--[[
  Moves one delivery from one of the states it may leave to another (see
  includes/transition-delivery).

  KEYS[1] the delivery
  KEYS[2] its dispatch
  ARGV[1] key prefix
  ARGV[2] delivery id
  ARGV[3] now (epoch ms)
  ARGV[4] states it may leave, comma-separated
  ARGV[5] new state
  ARGV[6] the generation it must be in ('' = any)
  ARGV[7] a new generation to give it ('' = keep)
  ARGV[8...] field/value pairs to set
  Returns transition_delivery's answer.

  The user's stats and finished indexes are reached through the key helpers:
  the user is known only from the dispatch record.
]]
--- @include "includes/transition-delivery"

return transition_delivery(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], { unpack(ARGV, 8) })
