/**
 * `fanout settings [show]` and `fanout settings set`: the user's own settings
 * on the service (/v1/settings), what applies to their sends that do not say.
 * (Where the command finds the service is another thing: ../settings.ts.)
 */
import { Command, Option } from 'commander'
import type { paths } from '../api-types.js'
import { contextOf, type Context } from '../context.js'
import { UsageError } from '../errors.js'

type Settings = paths['/v1/settings']['get']['responses']['200']['content']['application/json']
type Change = NonNullable<paths['/v1/settings']['patch']['requestBody']>['content']['application/json']

const onOff = (value: boolean) => value ? 'on' : 'off'

function showSettings (ctx: Context, settings: Settings): void {
  if (ctx.out.json) { ctx.out.data(settings); return }
  ctx.out.table(['setting', 'value', 'deployment default'], [
    ['skip-unreachable', onOff(settings.skip_unreachable), onOff(settings.deployment_defaults.skip_unreachable)]
  ])
}

export function settingsCommand (): Command {
  const settings = new Command('settings').description('your settings on the service: what applies to your sends that do not say')

  settings.command('show', { isDefault: true }).description('your settings as they apply now, beside the deployment\'s defaults')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command)
      showSettings(ctx, await ctx.call(ctx.api.GET('/v1/settings')))
    })

  settings.command('set').description('change your settings ("default" follows the deployment\'s)')
    .addOption(new Option('--skip-unreachable <value>', 'whether sends that do not say skip addresses marked dead (they end suppressed)')
      .choices(['on', 'off', 'default']))
    .addHelpText('after', '\nExample:\n  fanout settings set --skip-unreachable on')
    .action(async (options: { skipUnreachable?: 'on' | 'off' | 'default' }, command: Command) => {
      if (options.skipUnreachable === undefined) throw new UsageError('nothing to set', 'e.g. fanout settings set --skip-unreachable on')
      const body: Change = { skip_unreachable: options.skipUnreachable === 'default' ? null : options.skipUnreachable === 'on' }
      const ctx = contextOf(command)
      showSettings(ctx, await ctx.call(ctx.api.PATCH('/v1/settings', { body })))
    })

  return settings
}
