#!/usr/bin/env node
/**
 * `fanout`: the messenger fan-out service from the command line, through its
 * /v1 API only. `fanout --help` lists the commands, `fanout <command> --help`
 * each one's options; docs/cli.md is the guide. Exit codes: errors.ts.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { contactsCommand } from './commands/contacts.js'
import { deliveriesCommand, failedCommand } from './commands/deliveries.js'
import { dispatchesCommand, sendCommand } from './commands/dispatches.js'
import { keysCommand } from './commands/keys.js'
import { settingsCommand } from './commands/settings.js'
import { webhooksCommand } from './commands/webhooks.js'
import { outputOf, secretInUse, type GlobalOptions } from './context.js'
import { CliError, EXIT } from './errors.js'
import { configPath, DEFAULT_URL } from './settings.js'
import { sourcePath } from '../source-path.js'

const { version } = JSON.parse(readFileSync(sourcePath(import.meta.url, '..', '..', 'package.json'), 'utf8')) as { version: string }

function program (): Command {
  const fanout = new Command('fanout')
    .description('Send texts to your contacts on Telegram, WhatsApp and Viber through a messenger fan-out service, and follow every delivery.')
    .version(version, '-V, --version')
    .option('--url <url>', `the service (FANOUT_URL; default ${DEFAULT_URL})`)
    .addOption(new Option('--api-key <key>', 'your API key (FANOUT_API_KEY, or the config file: safer, a flag shows in `ps` and shell history)'))
    .option('--user <name>', 'the user to act as when the service runs without authentication, as in the npm start trial (FANOUT_USER)')
    .option('--json', 'print JSON (one object a line) instead of tables, for scripts')
    .option('--no-color', 'no colour (also NO_COLOR=1; never when stdout is not a terminal)')
    .showHelpAfterError('(fanout --help lists the commands and options)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => { write(text) } })
    .addHelpText('after', `
The service, key and user come from the flags, then the environment (FANOUT_URL,
FANOUT_API_KEY, FANOUT_USER), then the config file (FANOUT_CONFIG, default ${configPath(process.env)}):
  {"url": "https://fanout.example.com", "api_key": "fo_...", "user": "..."}

Exit codes: 0 done; 1 deliveries failed (send --wait, dispatches watch) or
rows of an import failed; 2 bad input or usage; 3 not found; 4 credentials
refused; 5 service unreachable or failing; 130 interrupted.

Examples:
  fanout contacts add Lera --telegram 123456789 --viber lera-viber-id --tag team
  fanout send "Standup in 5" --to Artem,Lera --tag team --wait
  fanout failed`)
  for (const command of [contactsCommand(), sendCommand(), dispatchesCommand(), deliveriesCommand(), failedCommand(), keysCommand(), settingsCommand(), webhooksCommand()]) {
    fanout.addCommand(command)
  }
  return fanout
}

/** Runs the command line; resolves with the exit code. */
export async function run (argv: string[]): Promise<number> {
  const fanout = program()
  // Every command shares the root's handling of usage errors and help (addCommand does not pass it on by itself).
  const share = (command: Command) => {
    command.exitOverride().showHelpAfterError('(add --help for usage)').configureOutput({ outputError: (text, write) => { write(text) } })
    command.commands.forEach(share)
  }
  fanout.commands.forEach(share)
  try {
    await fanout.parseAsync(argv)
    return Number(process.exitCode ?? EXIT.ok)
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and the version are answers; everything else commander says is a usage error it has printed already.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage
    }
    const options = fanout.opts<GlobalOptions>()
    const out = outputOf(options, secretInUse() ?? options.apiKey ?? process.env.FANOUT_API_KEY)
    if (err instanceof CliError) {
      out.note(`fanout: ${err.message}`)
      if (err.hint !== undefined) out.note(`  ${err.hint}`)
      return err.exitCode
    }
    out.note(`fanout: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    return EXIT.unavailable
  }
}

process.exitCode = await run(process.argv)
