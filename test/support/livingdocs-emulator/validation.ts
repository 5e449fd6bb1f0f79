// Request validation of the file import POST and metadata rules of the project config.
// Sheet: [F] §1.1 (fields), §5 (limits), §6 (400 body), §9 (undocumented), [MT] §7 (mediaTypes).
import { z } from 'zod'
import type { FileInput, MediaTypeConfig } from './types.ts'

/** Largest `context`, in bytes of its JSON serialisation (UTF-8). [F][D] §1.1, §5 */
export const MAX_CONTEXT_BYTES = 8192

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

const httpUrl = z.string().refine(isHttpUrl, { message: 'Must be an http or https uri' })
const plainObject = z.record(z.string(), z.unknown())

const fileSchema = z.object({
  id: z.string().min(1, { message: 'Must be a non-empty string' }),
  url: httpUrl,
  fileName: z.string().min(1, { message: 'Must be a non-empty string' }),
  metadata: plainObject,
  // [F] §1.1: required only in the prose; the OpenAPI list and curl examples leave it out. Default `file` (§9).
  mediaType: z.string().min(1, { message: 'Must be a non-empty string' }).optional(),
})

const makeBodySchema = (maxFiles: number) =>
  z.object({
    systemName: z.string().min(1, { message: 'Must be a non-empty string' }),
    webhook: httpUrl.optional(),
    context: plainObject
      .refine((ctx) => Buffer.byteLength(JSON.stringify(ctx), 'utf8') <= MAX_CONTEXT_BYTES, {
        message: `Must be at most ${MAX_CONTEXT_BYTES} bytes`,
      })
      .optional(),
    files: z
      .array(fileSchema)
      .min(1, { message: 'Must contain at least 1 item' })
      .max(maxFiles, { message: `Must contain at most ${maxFiles} items` }),
  })

/** The body schema per `maxFiles`, built once: building a zod schema costs more than parsing a body with it. */
const bodySchemas = new Map<number, ReturnType<typeof makeBodySchema>>()
const bodySchema = (maxFiles: number) => {
  let schema = bodySchemas.get(maxFiles)
  if (schema === undefined) {
    schema = makeBodySchema(maxFiles)
    bodySchemas.set(maxFiles, schema)
  }
  return schema
}

/** A validated import request. [F] §1.1 */
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

/**
 * Validates a file import POST body. Unknown keys are ignored (§9).
 * Error messages copy the style of the only documented 400 example ("Missing required property: params") and
 * keys are JSON paths like `files.0.url`; a body that is not an object is reported under the key `body`. [F] §6
 * @param body parsed JSON body (anything)
 * @param maxFiles most entries in `files` (§5: not documented; see README)
 */
export const validateImportRequest = (body: unknown, maxFiles: number): ValidationResult => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, details: { body: `Expected a JSON object, got ${describeType(body)}` } }
  }
  const result = bodySchema(maxFiles).safeParse(body, {
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
    const { systemName, webhook, context, files } = result.data
    return {
      ok: true,
      value: {
        systemName,
        ...(webhook !== undefined ? { webhook } : {}),
        ...(context !== undefined ? { context } : {}),
        files: files.map((file) => ({
          id: file.id,
          url: file.url,
          fileName: file.fileName,
          metadata: file.metadata,
          mediaType: file.mediaType ?? 'file',
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

const jsonType = (value: unknown): string => (Array.isArray(value) ? 'array' : typeof value)

/**
 * Checks a file's metadata against its mediaType's rules. [MT] §7; the failure handling itself is
 * undocumented (§9): the emulator fails the file with reason `Invalid metadata: <detail>` ([D] §6 wording).
 * @returns the problems as `<property>: <message>` strings (empty when valid)
 */
export const checkMetadata = (metadata: Record<string, unknown>, config: MediaTypeConfig): string[] => {
  const problems: string[] = []
  const rules = config.metadata ?? {}
  for (const [name, rule] of Object.entries(rules)) {
    const value = metadata[name]
    const missing = value === undefined || value === null || value === ''
    if (missing) {
      if (rule.required) problems.push(`${name}: is required`)
      continue
    }
    if (rule.type && jsonType(value) !== rule.type) {
      problems.push(`${name}: must be of type ${rule.type}`)
      continue
    }
    if (rule.maxLength !== undefined && typeof value === 'string' && value.length > rule.maxLength) {
      problems.push(`${name}: must be at most ${rule.maxLength} characters`)
    }
  }
  if (config.strict) {
    for (const name of Object.keys(metadata)) {
      if (!(name in rules)) problems.push(`${name}: is not declared for this mediaType`)
    }
  }
  return problems
}
