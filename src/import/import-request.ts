import type { Batch, MediaKind } from '../model/files.ts'
import { type BatchTrace, batchTrace } from '../telemetry/trace-context.ts'
import { IMPORT_KINDS } from './import-kinds.ts'
import { signBatchId, signedWebhookUrl } from './webhook-signature.ts'

/** One `files[]` entry of an import request ([F] §1.1). */
export interface FileEntry {
  id: string
  url: string
  fileName: string
  mediaType: string
  metadata: Record<string, unknown>
}

/**
 * An import request: the body of `POST /api/{version}/import/files`, `/images` or `/videos` ([F] [I] [V]
 * §1.1, §7) with its entries under `files`, `images` or `videos` as `kind` says (`kind` itself is not
 * sent). An entry that is a Buffer (the decoder's `entry`, UTF-8) or a string is already serialised as
 * JSON and goes into the body as is.
 */
export interface ImportRequest {
  kind: MediaKind
  systemName: string
  files: Array<FileEntry | string | Buffer>
  webhook?: string
  /** Echoed in the webhook body; at most 8192 bytes ([F] §5). */
  context?: Record<string, unknown>
}

/** Options of {@link buildImportRequest}. */
export interface ImportRequestOptions {
  /**
   * Base of the URL Livingdocs POSTs to when a job is done; each request carries its batch's own URL
   * under it (`signedWebhookUrl`, with a secret) or the base itself (without). Omitted when undefined.
   */
  webhookUrl: string | undefined
  /**
   * Signs `context.batchId` of each request (hex HMAC-SHA256, see `signBatchId`) so the webhook can be
   * authenticated; no signature is sent when undefined.
   */
  webhookSecret?: string | undefined
}

/** What a batch becomes on the wire. */
export interface BuiltImportRequest {
  request: ImportRequest
  /** Extra request headers: the W3C trace context of the batch's first traced file (src/telemetry/trace-context.ts). */
  headers: Record<string, string>
  trace: BatchTrace
}

/**
 * Builds the import request of `batch` ([F] §1.1): its systemName, each file's entry JSON as the decoder
 * serialised it, the batch's own signed webhook URL, and a `context` of `{source, batchId, signature}`
 * that Livingdocs may echo in the webhook ([F] §2; 8192 bytes at most, [F] §5: this one is under 200),
 * plus the trace headers of the batch.
 */
export function buildImportRequest(batch: Batch, options: ImportRequestOptions): BuiltImportRequest {
  const trace = batchTrace(batch.files)
  // One HMAC per request, for both the URL and the context.
  const secret = options.webhookSecret
  const signature = secret === undefined ? undefined : signBatchId(secret, batch.id)
  const request: ImportRequest = {
    kind: batch.kind,
    systemName: batch.systemName,
    files: batch.files.map((f) => f.entry),
    ...(options.webhookUrl === undefined
      ? {}
      : {
          webhook:
            secret === undefined
              ? options.webhookUrl
              : signedWebhookUrl(options.webhookUrl, batch.id, secret, signature),
        }),
    context: {
      source: 'file-import-bridge',
      batchId: batch.id,
      ...(signature === undefined ? {} : { signature }),
    },
  }
  return { request, headers: trace.headers, trace }
}

/**
 * The JSON body of `request` as UTF-8 bytes: the envelope by JSON.stringify with `files` last, the
 * entries spliced in (a string entry is valid JSON already, see {@link ImportRequest}), so no entry is
 * serialised twice. Each entry is copied straight into one buffer of the body's size: no joined string
 * of the whole body (about 55 kB for 100 files) for the HTTP client to encode once more.
 */
export function importRequestBody(request: ImportRequest): Buffer {
  const { kind, files, ...envelope } = request
  const head = JSON.stringify({ ...envelope, [IMPORT_KINDS[kind].itemsKey]: [] }).slice(0, -2) // without `]}`
  const entries = files.map((f) => (Buffer.isBuffer(f) || typeof f === 'string' ? f : JSON.stringify(f)))
  let size = Buffer.byteLength(head) + Math.max(0, entries.length - 1) + 2
  for (const e of entries) size += typeof e === 'string' ? Buffer.byteLength(e) : e.length
  const body = Buffer.allocUnsafe(size)
  let at = body.write(head, 0)
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) body[at++] = 0x2c // ,
    const e = entries[i] as string | Buffer
    at += typeof e === 'string' ? body.write(e, at) : e.copy(body, at)
  }
  body[at++] = 0x5d // ]
  body[at++] = 0x7d // }
  return body
}
