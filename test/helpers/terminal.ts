/**
 * A real terminal for a test: a command run in a tmux session of its own
 * (its own server socket), whose screen the test reads as a person sees it.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import type { Test } from 'tap'

const run = promisify(execFile)

export interface Terminal {
  /** The visible screen, as text. */
  screen (): Promise<string>
  /** Types the text (tmux send-keys: `Enter`, `C-c` as key names). */
  keys (...keys: string[]): Promise<void>
}

/** Quotes a word for the shell tmux runs the command with. */
const shellWord = (word: string) => `'${word.replaceAll("'", "'\\''")}'`

/**
 * Runs `command` (argv) with `env` added in a new terminal of `width` x
 * `height`, killed when the test ends.
 */
export async function openTerminal (t: Test, command: string[], env: Record<string, string> = {}, width = 200, height = 50): Promise<Terminal> {
  const socket = `fanout-test-${randomBytes(4).toString('hex')}`
  const tmux = async (...args: string[]) => (await run('tmux', ['-L', socket, ...args])).stdout
  const line = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command].map(shellWord).join(' ')
  await tmux('new-session', '-d', '-x', String(width), '-y', String(height), line)
  t.teardown(async () => {
    // The command first, by its process group (each pane has its own): a program that handles SIGHUP, or
    // ignores it, would outlive the terminal.
    const panes = await tmux('list-panes', '-F', '#{pane_pid}').catch(() => '')
    for (const pid of panes.split('\n').filter((line) => /^\d+$/.test(line)).map(Number)) {
      try { process.kill(-pid, 'SIGKILL') } catch { /* already gone */ }
    }
    await tmux('kill-server').catch(() => {})
  })
  return {
    screen: async () => await tmux('capture-pane', '-p', '-J'),
    async keys (...keys) { await tmux('send-keys', ...keys) }
  }
}
