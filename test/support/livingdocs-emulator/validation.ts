// Request validation of the three import POSTs. Sheet: [F] §1.1 (fields), [I][V] §7, §5 (limits),
// §6 (400 body), §9 (undocumented). Metadata rules live in project-config.ts.
import { z } from 'zod'
import type { KindSpec } from './kinds.ts'
import type { FileInput } from './model.ts'

/** Largest `context`, in bytes of its JSON serialisation (UTF-8). [F][D][I][V] §1.1, §5 */
export const MAX_CONTEXT_BYTES = 8192

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

// http(s) only: this also refuses the data URLs the image import forbids [I].
const httpUrl = z.string().refine(isHttpUrl, { message: 'Must be an http or https uri' })
const plainObject = z.record(z.string(), z.unknown())
const nonEmpty = z.string().min(1, { message: 'Must be a non-empty string' })

const makeBodySchema = (batchKey: string, maxFiles: number, mediaTypeRequired: boolean) =>
  z.object({
    systemName: nonEmpty,
    webhook: httpUrl.optional(),
    context: plainObject
      .refine((ctx) => Buffer.byteLength(JSON.stringify(ctx), 'utf8') <= MAX_CONTEXT_BYTES, {
        message: `Must be at most ${MAX_CONTEXT_BYTES} bytes`,
      })
      .optional(),
    [batchKey]: z
      .array(
        z.object({
          id: nonEmpty,
          url: httpUrl,
          fileName: nonEmpty,
          metadata: plainObject,
          mediaType: mediaTypeRequired ? nonEmpty : nonEmpty.optional(),
        }),
      )
      .min(1, { message: 'Must contain at least 1 item' })
      .max(maxFiles, { message: `Must contain at most ${maxFiles} items` }),
  })

type BodySchema = ReturnType<typeof makeBodySchema>

/** Schemas by kind, limit and requiredness, built once: building a zod schema costs more than parsing a body. */
const bodySchemas = new Map<string, BodySchema>()
const bodySchema = (batchKey: string, maxFiles: number, mediaTypeRequired: boolean) => {
  const key = `${batchKey}:${maxFiles}:${mediaTypeRequired}`
  let schema = bodySchemas.get(key)
  if (schema === undefined) {
    schema = makeBodySchema(batchKey, maxFiles, mediaTypeRequired)
    bodySchemas.set(key, schema)
  }
  return schema
}

/** A validated import request, whatever the import (`files` holds the `files`, `images` or `videos`). */
export type ImportRequest = {
  systemName: string
  webhook?: string
  context?: Record<string, unknown>
  files: FileInput[]
}

/** Result of {@link validateImportRequest}: the request, or `error_details` (JSON path -> message). [F] §6 */
export type ValidationResult =
  | { ok: true; value: ImportRequest }
  | { ok: false; details: Record<string, string> }

const describeType = (value: unknown): string => {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

type Entry = {
  id: string
  url: string
  fileName: string
  metadata: Record<string, unknown>
  mediaType?: string
}

/**
 * Validates an import POST body. Unknown keys are ignored (§9). Error messages copy the style of the only
 * documented 400 example ("Missing required property: params"); keys are JSON paths like `images.0.url`;
 * a body that is not an object is reported under the key `body`. [F] §6
 * @param body parsed JSON body (anything)
 * @param spec the import: its batch key (`files`/`images`/`videos`) and default mediaType
 * @param maxFiles most entries in the batch (§5: not documented; see README)
 * @param mediaTypeRequired whether each entry needs `mediaType` (variant `mediaTypeRequired`, per-kind OpenAPI)
 */
export const validateImportRequest = (
  body: unknown,
  spec: Pick<KindSpec, 'path' | 'defaultMediaType'>,
  maxFiles: number,
  mediaTypeRequired: boolean,
): ValidationResult => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, details: { body: `Expected a JSON object, got ${describeType(body)}` } }
  }
  const result = bodySchema(spec.path, maxFiles, mediaTypeRequired).safeParse(body, {
    error: (issue) => {
      const key = issue.path?.at(-1)
      if (issue.code === 'invalid_type') {
        if (issue.input === undefined) return `Missing required property: ${String(key)}`
        return `Expected ${issue.expected === 'record' ? 'object' : issue.expected}, got ${describeType(issue.input)}`
      }
      return undefined
    },
  })
  if (result.success) {
    const data = result.data as { systemName: string; webhook?: string; context?: Record<string, unknown> }
    const { systemName, webhook, context } = data
    const entries = (result.data as Record<string, unknown>)[spec.path] as Entry[]
    return {
      ok: true,
      value: {
        systemName,
        ...(webhook !== undefined ? { webhook } : {}),
        ...(context !== undefined ? { context } : {}),
        files: entries.map((entry) => ({
          id: entry.id,
          url: entry.url,
          fileName: entry.fileName,
          metadata: entry.metadata,
          mediaType: entry.mediaType ?? spec.defaultMediaType,
        })),
      },
    }
  }
  const details: Record<string, string> = {}
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.') || 'body'
    if (!(path in details)) details[path] = issue.message
  }
  return { ok: false, details }
}
