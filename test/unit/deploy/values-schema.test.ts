// The chart's values schema knows exactly the bridge's settings under `config`: a misspelt one
// (BATCH_MAX_FILE) is refused by helm, as the bridge warns about it at start-up.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { SETTING_NAMES } from '../../../src/config.ts'

const SCHEMA = new URL('../../../helm/file-import-bridge/values.schema.json', import.meta.url)

interface ConfigSchema {
  additionalProperties: unknown
  properties: Record<string, unknown>
  propertyNames: { not: { enum: string[] } }
}

describe('the values schema of the chart', () => {
  it('lists every setting under config but those the chart sets itself, and refuses any other name', async () => {
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as { properties: { config: ConfigSchema } }
    const config = schema.properties.config
    expect(config.additionalProperties).toBe(false)
    const bySelf = config.propertyNames.not.enum
    expect(Object.keys(config.properties).sort()).toEqual(SETTING_NAMES.filter((n) => !bySelf.includes(n)))
    expect(Object.keys(config.properties)).not.toContain('BATCH_MAX_FILE')
  })
})
