/**
 * What can go wrong in the fanout command, each with its exit code and a
 * hint of what to do next (clig.dev: say what happened, then how to fix it).
 *
 *   0  done
 *   1  some things failed: deliveries, when waiting (send --wait, dispatches watch); rows of an import (the others were written)
 *   2  bad input or usage (the command line, or the service refused the request's content: 400, 409, 422)
 *   3  not found (404): no such contact, dispatch, delivery or key of this user
 *   4  not allowed: credentials missing, wrong or revoked (401), or not for this (403)
 *   5  the service could not be reached or failed (network, 5xx, 429, a lost event stream)
 *   130 interrupted (Ctrl-C)
 */
export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  notFound: 3,
  denied: 4,
  unavailable: 5,
  interrupted: 130
} as const

export class CliError extends Error {
  constructor (message: string, readonly exitCode: number, readonly hint?: string) {
    super(message)
  }
}

/** The command line or the settings are wrong. */
export class UsageError extends CliError {
  constructor (message: string, hint?: string) {
    super(message, EXIT.usage, hint)
  }
}

/** The service answered with an error. */
export class ApiError extends CliError {
  constructor (readonly status: number, readonly code: string, message: string, hint?: string) {
    super(message, exitCodeOf(status), hint)
  }
}

export function exitCodeOf (status: number): number {
  if (status === 404) return EXIT.notFound
  if (status === 401 || status === 403) return EXIT.denied
  if (status === 429 || status >= 500) return EXIT.unavailable
  return EXIT.usage
}
