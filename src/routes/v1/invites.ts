/**
 * A contact's invite links, under /v1/contacts/{name}/invites: each POST
 * makes new tokens (older ones stay usable until used or expired). What the
 * person does with a link comes back through /webhooks/telegram, /viber and
 * /whatsapp (src/routes/webhooks/invite-answers.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import QRCode from 'qrcode'
import { iso } from '../../deliveries/delivery-views.js'
import { notFound } from '../../errors.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import { ContactParams } from '../../schemas/contacts.js'
import { InviteAnswer, InviteQuery } from '../../schemas/invites.js'

const invites: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.post('/:name/invites', {
    schema: {
      tags: ['contacts'],
      summary: 'New invite links for a contact: a link per messenger, whose first use fills in (or replaces) the contact\'s id there',
      description: 'Tokens are single-use and expire after INVITE_TTL_SECONDS (default 7 days). A messenger whose settings are missing ' +
        '(TELEGRAM_BOT_USERNAME, VIBER_CHAT_URI, WHATSAPP_BUSINESS_NUMBER) is listed in `unavailable` with the reason. ' +
        'A connection is shown in GET /v1/contacts/{name} (`connections`) and sent to status webhooks as contact.connected.',
      params: ContactParams,
      querystring: InviteQuery,
      response: { 201: InviteAnswer, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    const { name } = request.params
    if (await fastify.contacts.get(request.userName, name) === undefined) throw notFound(`no contact named "${name}"`)
    const issued = await fastify.invites.issue(request.userName, name)
    const links: Record<string, { url: string, token: string, code?: string, qr_svg?: string }> = {}
    for (const [messenger, link] of Object.entries(issued.links)) {
      links[messenger] = request.query.qr === 'svg' ? { ...link, qr_svg: await QRCode.toString(link.url, { type: 'svg', margin: 2 }) } : link
    }
    reply.code(201)
    return { contact: name, expires_at: iso(issued.expiresAt), links, unavailable: issued.unavailable }
  })
}

export default invites
