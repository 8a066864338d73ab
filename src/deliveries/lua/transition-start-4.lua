--[[
  One delivery's end and the next one's start, in one call: a sender going
  from one delivery of a batch to the next. The two deliveries' count
  changes are summed (the first's `sending` -1 and the next's +1 cancel out).

  KEYS[1] the finished delivery
  KEYS[2] its dispatch
  KEYS[3] the next delivery
  KEYS[4] its dispatch
  ARGV[1] key prefix
  ARGV[2] now (epoch ms)
  ARGV[3] the finished delivery's id
  ARGV[4] states it may leave, comma-separated
  ARGV[5] its new state
  ARGV[6] the generation it must be in ('' = any)
  ARGV[7] the next delivery's id
  ARGV[8] the next delivery's job generation
  ARGV[9...] field/value pairs for the finished delivery
  Returns {transition_delivery's answer, start_delivery's answer}.

  The user's stats and finished indexes are reached through the key helpers:
  the user is known only from the dispatch record.
]]
--- @include "includes/transition-delivery"
--- @include "includes/start-delivery"

defer_counts()
local finished = transition_delivery(ARGV[3], ARGV[2], ARGV[4], ARGV[5], ARGV[6], '', { unpack(ARGV, 9) })
local started = start_delivery(ARGV[7], ARGV[2], ARGV[8])
apply_counts()
return { finished, started }
