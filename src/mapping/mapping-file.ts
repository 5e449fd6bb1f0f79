import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { z } from 'zod'
import { MAPPING_KEYS, type MappingKey } from './targets.ts'

/** The expressions of a mapping file by field, as written (not compiled yet). */
export type MappingExpressions = Partial<Record<MappingKey, string>>

const expression = z
  .string({ error: 'must be a JSONata expression as a string (quote it in YAML)' })
  .refine((s) => s.trim() !== '', 'is empty')

/** The file's shape: an object of known keys, each a non-empty string; any other key is refused. */
const fileSchema = z.strictObject(
  Object.fromEntries(MAPPING_KEYS.map((key) => [key, expression.optional()])) as Record<
    MappingKey,
    z.ZodOptional<typeof expression>
  >,
)

/**
 * Reads a mapping file (`MAPPING_FILE`): YAML 1.2 or JSON (JSON is YAML 1.2, so one parser, the `yaml`
 * package, reads both), holding one JSONata expression per field (src/mapping/targets.ts) and an
 * optional `filter`. Duplicate keys, unknown keys and values that are not strings are refused, each
 * problem naming the key.
 *
 * @param path the file's path
 * @param problems receives one line per problem, e.g. `url: must be a JSONata expression as a string`
 * @returns the expressions by field, or undefined after pushing at least one problem
 */
export function readMappingFile(path: string, problems: string[]): MappingExpressions | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    problems.push(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    return undefined
  }
  // uniqueKeys (the default) makes a repeated key an error rather than the last one silently winning.
  const doc = YAML.parseDocument(text, { prettyErrors: true })
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push(`not valid YAML or JSON: ${e.message.split('\n')[0]}`)
    return undefined
  }
  const parsed = fileSchema.safeParse(doc.toJS())
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        problems.push(
          `unknown keys ${issue.keys.join(', ')}: a mapping holds only ${MAPPING_KEYS.join(', ')}`,
        )
      } else if (issue.path.length === 0) {
        problems.push(`must be an object of field: expression (found ${describe(doc.toJS())})`)
      } else {
        problems.push(`${issue.path.join('.')}: ${issue.message}`)
      }
    }
    return undefined
  }
  const expressions: MappingExpressions = {}
  for (const key of MAPPING_KEYS) {
    const value = parsed.data[key]
    if (value !== undefined) expressions[key] = value
  }
  return expressions
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty file'
  return Array.isArray(value) ? 'a list' : typeof value
}
