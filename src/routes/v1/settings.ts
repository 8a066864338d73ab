/**
 * The user's own settings under /v1/settings: what applies to their sends
 * that do not say (so far `skip_unreachable`). A setting left unset, or set
 * back to null, follows the deployment's default.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Settings, SettingsChange, userErrors } from '../../schemas/users.js'
import type { UserSettings } from '../../users/user-settings.js'

const tags = ['settings']

const settings: FastifyPluginAsyncTypebox = async function (fastify) {
  const { userSettings } = fastify
  const view = (settings: UserSettings) => ({
    skip_unreachable: settings.skipUnreachable,
    deployment_defaults: { skip_unreachable: userSettings.defaults.skipUnreachable }
  })

  fastify.get('/', {
    schema: { tags, summary: 'The user\'s settings, as they apply now', response: { 200: Settings, ...userErrors } }
  }, async (request) => view(await userSettings.get(request.userName)))

  fastify.patch('/', {
    schema: {
      tags,
      summary: 'Change some of the user\'s settings (null: back to the deployment\'s default); answers them as they apply now',
      body: SettingsChange,
      response: { 200: Settings, ...userErrors }
    }
  }, async (request) => {
    const { skip_unreachable: skipUnreachable } = request.body
    return view(await userSettings.change(request.userName, { ...(skipUnreachable !== undefined && { skipUnreachable }) }))
  })
}

export default settings
