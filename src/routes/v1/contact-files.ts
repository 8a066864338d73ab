/**
 * The whole book as a file: POST /v1/contacts/import (CSV, NDJSON or a JSON
 * array; up to 100,000 rows, each checked as POST /v1/contacts checks its
 * body, a report per row) and GET /v1/contacts/export (CSV or NDJSON,
 * streamed), so that an export imports back to the same book. The formats
 * are src/contacts/contact-files.ts, the import src/contacts/contact-import.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { csvOf, MEDIA_TYPES, ndjsonOf, readContactFile, wholeBook, type ContactFile, type ContactFileFormat } from '../../contacts/contact-files.js'
import { importContacts, type ImportReport as Report } from '../../contacts/contact-import.js'
import { invalidField, notFound, unprocessable, withAnswer } from '../../errors.js'
import { exportCost, importCost } from '../../plugins/app/rate-limit.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import { ExportFile, ExportQuery, ImportBody, ImportQuery, ImportRefused, ImportReport, MAX_IMPORT_ROWS } from '../../schemas/contacts.js'
import { IdempotencyHeaders } from '../../schemas/dispatches.js'
import { compileValidator } from '../../schemas/validators.js'

const tags = ['contacts']

/** A charset other than UTF-8 (or none) is refused: the files are read as UTF-8. */
function checkCharset (request: FastifyRequest): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw Object.assign(new Error(`the body must be UTF-8, not ${charset}`), { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
  }
}

/** The 422 of an all-or-nothing import with failed rows: the error names the first rows, the report all of them. */
function refused (report: Report): Error {
  const details = report.errors.map((e) => ({ field: `row ${e.row}${e.field === undefined ? '' : `: ${e.field}`}`, message: e.message }))
  const error = unprocessable('IMPORT_REFUSED',
    `${report.counts.failed} of ${report.counts.rows} rows failed, so nothing was written (all_or_nothing); the first: row ${report.errors[0]?.row}: ${report.errors[0]?.message}`)
  return withAnswer(Object.assign(error, { details }), { report })
}

const contactFiles: FastifyPluginAsyncTypebox = async function (fastify) {
  const { contacts: store, config } = fastify

  const importRoute: FastifyPluginAsyncTypebox = async function (route) {
    // The body is a file, read as a stream by readContactFile (its own limit: IMPORT_BODY_LIMIT), not by Fastify's parsers.
    route.removeAllContentTypeParsers()
    for (const format of Object.keys(MEDIA_TYPES) as ContactFileFormat[]) {
      route.addContentTypeParser(MEDIA_TYPES[format], async (request: FastifyRequest, payload: NodeJS.ReadableStream) => {
        checkCharset(request)
        return await readContactFile(payload as Readable, format, { maxBytes: config.importBodyLimit, maxRows: MAX_IMPORT_ROWS })
      })
    }

    route.post('/import', {
      schema: {
        tags,
        summary: 'Import contacts from a CSV, NDJSON or JSON file: up to 100,000 rows, each checked as a POST body is, a report per row',
        description: 'Each row is checked as `POST /v1/contacts` checks its body; the good rows are written in batches, in row order ' +
          '(a full book refuses the rest of the new names). The answer counts the rows of each result, lists them as ranges, and ' +
          'lists the errors (row number, field, message) of the first 1,000 failed rows. With `all_or_nothing=true`, a failed row ' +
          'writes nothing: 422 IMPORT_REFUSED. With an `Idempotency-Key`, the same file with the same options answers the first answer. ' +
          'Costs 1 rate-limit point per 100 rows.',
        headers: IdempotencyHeaders,
        querystring: ImportQuery,
        body: ImportBody,
        response: { 200: ImportReport, 409: ErrorBody, 422: ImportRefused, ...RequestErrors }
      },
      // The body schemas document the file; readContactFile has read it, and each row is checked by the import.
      validatorCompiler: ({ schema, httpPart }) => httpPart === 'body' ? () => true : compileValidator({ schema, ...(httpPart !== undefined && { httpPart }) })
    }, async (request, reply) => {
      const file = request.body as unknown as ContactFile | undefined
      // No body at all reaches no parser.
      if (file === undefined) throw invalidField('body', `is missing: send the file as ${Object.values(MEDIA_TYPES).join(', ')}`)
      const { mode = 'upsert', all_or_nothing: allOrNothing = false } = request.query
      await fastify.rateLimit.charge(request, reply, importCost(file.rows.length))
      const run = async () => {
        const report = await importContacts(store, request.userName, file.rows, { mode, allOrNothing, maxContacts: config.limits.contactsPerUser })
        if (!report.written) throw refused(report)
        return { status: 200, body: report }
      }
      const key = request.headers['idempotency-key']
      const answer = key === undefined
        ? { ...await run(), replayed: false }
        : await fastify.idempotency.run(request.userName, key, { file: file.sha256, format: file.format, mode, allOrNothing }, run)
      if (answer.replayed) reply.header('idempotent-replayed', 'true')
      return await reply.status(answer.status).send(answer.body as Report)
    })
  }
  await fastify.register(importRoute)

  fastify.get('/export', {
    schema: {
      tags,
      summary: 'The whole book as a file, streamed: CSV (the columns of an import) or NDJSON',
      description: 'In name order; importing the file gives the same book. Costs 1 rate-limit point per 1,000 contacts. ' +
        'Without `format` this is GET /v1/contacts/{name} of the contact named "export".',
      querystring: ExportQuery,
      response: {
        200: {
          description: 'The book (or, without format, the contact named "export")',
          headers: { 'x-total-count': { type: 'integer', description: 'How many contacts the file holds (as the export began)' } },
          ...ExportFile
        },
        404: ErrorBody,
        ...RequestErrors
      }
    }
  }, async (request, reply) => {
    const user = request.userName
    const { format } = request.query
    if (format === undefined) {
      const contact = await store.get(user, 'export')
      if (contact === undefined) throw notFound('no contact named "export" (to export the book, add ?format=csv or ?format=ndjson)')
      return contact
    }
    const count = await store.count(user)
    await fastify.rateLimit.charge(request, reply, exportCost(count))
    const book = wholeBook(store, user)
    return await reply
      .header('x-total-count', count)
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="contacts.${format}"`)
      // A stream: the typed reply knows only the schemas' values.
      .send((format === 'csv' ? csvOf(book) : ndjsonOf(book)) as unknown as string)
  })
}

export default contactFiles
