/**
 * The pure classifiers on the messengers' real answers (docs/messengers.md):
 * accepted, retryable (with how long to wait when the messenger says) or
 * permanent.
 */
import t, { type Test } from 'tap'
import type { SendOutcome } from '../../src/messengers/adapter.js'
import { classifyTelegram, type TelegramOutcome } from '../../src/messengers/telegram.js'
import { classifyViber } from '../../src/messengers/viber.js'
import { classifyWhatsApp } from '../../src/messengers/whatsapp.js'

const json = (value: unknown) => JSON.stringify(value)

/** Answers no messenger gives for a send: none may be taken for a delivery or a permanent error. */
const GARBAGE: Array<[number, string]> = [
  [200, ''],
  [200, 'not json'],
  [200, '{"ok":tru'],
  [200, 'null'],
  [200, '42'],
  [200, '"ok"'],
  [200, '[]'],
  [200, '[{"ok":true}]'],
  [200, '<html><body><h1>200 OK</h1></body></html>'],
  [502, '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>'],
  [504, ''],
  [404, '<!DOCTYPE html><html><body>Not Found</body></html>']
]

function retryable (t: Test, got: SendOutcome | TelegramOutcome, what: string) {
  t.equal(got.result, 'retryable', what)
  if (got.result === 'retryable') t.match(got.error, /\S/, `${what}: says why`)
}

function permanent (t: Test, got: SendOutcome | TelegramOutcome, what: string) {
  t.equal(got.result, 'permanent', what)
  if (got.result === 'permanent') t.match(got.error, /\S/, `${what}: says why`)
}

t.test('Telegram', async (t) => {
  t.test('success: the message_id is the provider id', async (t) => {
    const body = json({ ok: true, result: { message_id: 4242, date: 1700000000, chat: { id: 123456789, type: 'private' }, text: 'hi' } })
    t.same(classifyTelegram(200, body), { result: 'accepted', providerMessageId: '4242' })
  })

  t.test('400, 401, 403 and 404 are permanent', async (t) => {
    for (const [status, description] of [
      [400, 'Bad Request: chat not found'],
      [400, 'Bad Request: message is too long'],
      [401, 'Unauthorized'],
      [403, 'Forbidden: bot was blocked by the user'],
      [404, 'Not Found']
    ] as const) {
      const got = classifyTelegram(status, json({ ok: false, error_code: status, description }))
      permanent(t, got, `${status} ${description}`)
      if (got.result === 'permanent') t.match(got.error, description, 'the description is kept')
    }
    // A group that became a supergroup: the same text goes to the new id (the adapter does that, once).
    t.same(classifyTelegram(400, json({
      ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -1001234567890 }
    })), { result: 'migrated', chatId: '-1001234567890' }, '400 with migrate_to_chat_id')
  })

  t.test('429 waits retry_after seconds', async (t) => {
    const got = classifyTelegram(429, json({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } }))
    t.match(got, { result: 'retryable', retryAfterMs: 3000 })
    if (got.result === 'retryable') t.match(got.error, /429/)

    const bare = classifyTelegram(429, json({ ok: false, error_code: 429, description: 'Too Many Requests' }))
    t.equal(bare.result, 'retryable', '429 without parameters is still retryable')
    t.notOk('retryAfterMs' in bare && bare.retryAfterMs !== undefined, 'with no wait invented')
  })

  t.test('5xx is retryable, whatever the body', async (t) => {
    for (const status of [500, 502, 503, 504]) {
      retryable(t, classifyTelegram(status, json({ ok: false, error_code: status, description: 'Internal Server Error' })), `${status} in Telegram's shape`)
      retryable(t, classifyTelegram(status, ''), `${status} with no body`)
      retryable(t, classifyTelegram(status, 'Service Unavailable'), `${status} as plain text`)
    }
  })

  t.test('garbage and wrong shapes are retryable', async (t) => {
    for (const [status, body] of GARBAGE) retryable(t, classifyTelegram(status, body), `HTTP ${status} ${JSON.stringify(body.slice(0, 30))}`)
    for (const body of [
      json({ ok: 'true', result: { message_id: 1 } }),
      json({ result: { message_id: 1 } }),
      json({ ok: true }),
      json({ ok: true, result: null }),
      json({ ok: true, result: { message_id: '1' } }),
      json({ hello: 'world' })
    ]) {
      retryable(t, classifyTelegram(200, body), `wrong shape ${body}`)
    }
  })
})

t.test('WhatsApp', async (t) => {
  const error = (code: number, message = `(#${code}) something`) => json({
    error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: message }, fbtrace_id: 'AbCdEf123' }
  })

  t.test('success: messages[0].id is the provider id', async (t) => {
    const body = json({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+15551234567', wa_id: '15551234567' }],
      messages: [{ id: 'wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA' }]
    })
    t.same(classifyWhatsApp(200, body), { result: 'accepted', providerMessageId: 'wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA' })
  })

  t.test('every throttling and transient code is retryable, whatever the HTTP status', async (t) => {
    for (const code of [4, 80007, 130429, 131048, 131056, 133016, 1, 2, 131000, 131016, 133004]) {
      for (const status of [400, 429, 403, 500]) {
        retryable(t, classifyWhatsApp(status, error(code)), `code ${code} with HTTP ${status}`)
      }
    }
    // The docs/messengers.md example: a rate limit answered as HTTP 400.
    retryable(t, classifyWhatsApp(400, error(130429, '(#130429) Rate limit hit')), 'code 130429 with HTTP 400')
  })

  t.test('every permanent code is permanent, whatever the HTTP status', async (t) => {
    for (const code of [0, 190, 10, 200, 250, 299, 100, 131008, 131009, 131026, 131030, 131047, 131051, 368, 131031]) {
      for (const status of [400, 401, 403]) {
        const got = classifyWhatsApp(status, error(code))
        permanent(t, got, `code ${code} with HTTP ${status}`)
        if (got.result === 'permanent') t.match(got.error, String(code), 'the code is kept')
      }
    }
  })

  t.test('the outcome follows error.code, not the HTTP status: a permanent code under a 5xx stays permanent', async (t) => {
    // docs/messengers.md: "The HTTP status varies (400, 401, 403, 429, 5xx): classify on
    // error.code, not on the status"; 100 is listed as permanent (bad parameter).
    // "any 5xx" is transient only when there is no error code to go by.
    permanent(t, classifyWhatsApp(500, error(100, '(#100) Invalid parameter')), 'code 100 with HTTP 500')
    permanent(t, classifyWhatsApp(503, error(190, 'Invalid OAuth access token')), 'code 190 with HTTP 503')
    permanent(t, classifyWhatsApp(500, error(131026, '(#131026) Message undeliverable')), 'code 131026 with HTTP 500')
  })

  t.test('5xx without an error code is retryable', async (t) => {
    for (const status of [500, 502, 503, 504]) {
      retryable(t, classifyWhatsApp(status, ''), `${status} with no body`)
      retryable(t, classifyWhatsApp(status, 'Service Unavailable'), `${status} as plain text`)
      retryable(t, classifyWhatsApp(status, json({})), `${status} with an empty object`)
    }
  })

  t.test('garbage and wrong shapes are retryable', async (t) => {
    for (const [status, body] of GARBAGE) retryable(t, classifyWhatsApp(status, body), `HTTP ${status} ${JSON.stringify(body.slice(0, 30))}`)
    for (const body of [
      json({ messaging_product: 'whatsapp', contacts: [] }),
      json({ messaging_product: 'whatsapp', messages: [] }),
      json({ messaging_product: 'whatsapp', messages: [{}] }),
      json({ messaging_product: 'whatsapp', messages: [{ id: 12345 }] }),
      json({ messaging_product: 'whatsapp', messages: { id: 'wamid.x' } })
    ]) {
      retryable(t, classifyWhatsApp(200, body), `HTTP 200 ${body}`)
    }
    for (const body of [json({ error: 'nope' }), json({ error: { code: '130429' } }), json({ error: { message: 'no code' } })]) {
      retryable(t, classifyWhatsApp(400, body), `HTTP 400 ${body}`)
    }
  })
})

t.test('Viber', async (t) => {
  t.test('status 0: the 64-bit message_token is the provider id, to the last digit', async (t) => {
    const token = '5741311803571721087'
    t.ok(BigInt(token) > 2n ** 53n, 'the token is beyond what a JS number carries')
    t.not(String(Number(token)), token, 'a JS number would round it')
    const body = `{"status":0,"status_message":"ok","message_token":${token},"chat_hostname":"SN-CHAT-01_","billing_status":1}`
    t.same(classifyViber(200, body), { result: 'accepted', providerMessageId: token })

    const spaced = '{ "status" : 0, "status_message" : "ok", "message_token" : 9223372036854775807, "chat_hostname" : "SN-CHAT-01_" }'
    t.same(classifyViber(200, spaced), { result: 'accepted', providerMessageId: '9223372036854775807' }, 'with whitespace around the colon')

    const first = '{"message_token":5741311803571721087,"status":0,"status_message":"ok"}'
    t.same(classifyViber(200, first), { result: 'accepted', providerMessageId: token }, 'with the token before the status')
  })

  t.test('status 12 (tooManyRequests) is retryable', async (t) => {
    const got = classifyViber(200, json({ status: 12, status_message: 'tooManyRequests', chat_hostname: 'SN-CHAT-01_' }))
    retryable(t, got, 'status 12')
    if (got.result === 'retryable') t.match(got.error, /12/)
  })

  t.test('statuses 1-11, 13-24 and unknown ones are permanent (all as HTTP 200)', async (t) => {
    const statuses = [...Array.from({ length: 11 }, (_, i) => i + 1), ...Array.from({ length: 12 }, (_, i) => i + 13), 999, 25, 100]
    for (const status of statuses) {
      const got = classifyViber(200, json({ status, status_message: status === 999 ? 'Bad receiver ID' : `error ${status}`, chat_hostname: 'SN-CHAT-01_' }))
      permanent(t, got, `status ${status}`)
      if (got.result === 'permanent') t.match(got.error, String(status), 'the status is kept')
    }
    const six = classifyViber(200, json({ status: 6, status_message: 'receiverNotSubscribed' }))
    t.same(six, { result: 'permanent', error: 'viber 6: receiverNotSubscribed', unreachable: { code: 6, reason: 'not_subscribed' } })
  })

  t.test('HTTP 5xx is retryable, whatever the body', async (t) => {
    for (const status of [500, 502, 503, 504]) {
      retryable(t, classifyViber(status, ''), `${status} with no body`)
      retryable(t, classifyViber(status, 'Service Unavailable'), `${status} as plain text`)
      retryable(t, classifyViber(status, json({ status: 2, status_message: 'invalidAuthToken' })), `${status} with a JSON status`)
    }
  })

  t.test('garbage and wrong shapes are retryable', async (t) => {
    for (const [status, body] of GARBAGE) retryable(t, classifyViber(status, body), `HTTP ${status} ${JSON.stringify(body.slice(0, 30))}`)
    for (const body of [
      json({ status: '0', message_token: 1 }),
      json({ status_message: 'ok', message_token: 1 }),
      json({ status: 0, status_message: 'ok' }),
      json({ status: 0, status_message: 'ok', message_token: null }),
      json({ status: null })
    ]) {
      retryable(t, classifyViber(200, body), `HTTP 200 ${body}`)
    }
  })
})
