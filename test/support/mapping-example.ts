import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** The mapping example of docs/mapping.md ("Mapping legacy events"), as that page shows it. */
export interface MappingExample {
  /** The legacy event, one JSON line. */
  input: string
  /** The mapping file (YAML). */
  mapping: string
  /** What the dry run prints for it, summary line included. */
  output: string
}

/**
 * Reads the three code blocks that follow the `<!-- mapping-example:input|mapping|output -->` markers
 * of docs/mapping.md, so that tests run exactly what the documentation shows.
 */
export function readmeMappingExample(): MappingExample {
  const page = readFileSync(resolve(import.meta.dirname, '../../docs/mapping.md'), 'utf8')
  const block = (name: string) => {
    const match = new RegExp(`<!-- mapping-example:${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(
      page,
    )
    if (match?.[1] === undefined) throw new Error(`docs/mapping.md has no mapping-example:${name} block`)
    return match[1]
  }
  return { input: block('input'), mapping: block('mapping'), output: block('output') }
}

/** Writes `text` to a new temporary file named `name` and returns its path (e.g. a mapping file). */
export function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fib-mapping-')), name)
  writeFileSync(path, text)
  return path
}

/**
 * An Avro writer schema of the mapping example's legacy event (docs/mapping.md) (its `occurredAt` as `timestamp-millis`):
 * a nested record, arrays and a union. The dry run's test and the bench's `mapping` mode produce it.
 */
export const DAM_SCHEMA = {
  type: 'record',
  name: 'AssetEvent',
  namespace: 'legacy.dam',
  fields: [
    { name: 'eventType', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    {
      name: 'asset',
      type: {
        type: 'record',
        name: 'Asset',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'title', type: 'string' },
          { name: 'mime', type: 'string' },
          {
            name: 'renditions',
            type: {
              type: 'array',
              items: {
                type: 'record',
                name: 'Rendition',
                fields: [
                  { name: 'kind', type: 'string' },
                  { name: 'href', type: 'string' },
                ],
              },
            },
          },
          {
            name: 'credit',
            type: {
              type: 'record',
              name: 'Credit',
              fields: [
                { name: 'photographer', type: 'string' },
                { name: 'agency', type: 'string' },
              ],
            },
          },
          { name: 'tags', type: { type: 'array', items: 'string' } },
          { name: 'caption', type: ['null', 'string'], default: null },
        ],
      },
    },
  ],
}
