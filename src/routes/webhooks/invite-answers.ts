/**
 * A person answering an invite link, as each messenger's webhook sees it:
 * the token is taken and the address connected (plugins/app/invites.ts), and
 * the answer to the person is a short text either way, never an error: a
 * used, expired or unknown token, or a deleted contact, connects nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { CONNECTED_TEXT, NOT_CONNECTED_TEXT } from '../../invites/invite-texts.js'
import type { Messenger } from '../../model/messenger.js'

/** Connects `address` by `token`; answers the text to send back to the person. */
export async function answerInvite (fastify: FastifyInstance, request: FastifyRequest, messenger: Messenger, token: string, address: string): Promise<string> {
  const outcome = await fastify.invites.connect(messenger, token, address)
  if (outcome.connected) {
    request.log.info({ messenger, user: outcome.user, contact: outcome.contact, replaced: outcome.previousId !== undefined }, 'invite answered: contact connected')
    return CONNECTED_TEXT
  }
  request.log.info({ messenger, reason: outcome.reason }, 'invite answered: nothing connected')
  return NOT_CONNECTED_TEXT
}
