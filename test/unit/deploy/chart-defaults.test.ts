// The chart's settings (helm/file-import-bridge/values.yaml `config`) agree with the code's defaults
// (src/config-schema.ts): a deployment that leaves a value as the chart has it gets what the README's
// configuration table says (issue 24: the chart's LIVINGDOCS_API_VERSION was 2026-07, the code's 2026-03).
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { DEFAULT_API_VERSION, envSchema } from '../../../src/config-schema.ts'

const values = YAML.parse(
  readFileSync(resolve(import.meta.dirname, '../../../helm/file-import-bridge/values.yaml'), 'utf8'),
) as { config: Record<string, string> }

describe("the chart's config defaults", () => {
  it("LIVINGDOCS_API_VERSION is the code's default", () => {
    expect(values.config.LIVINGDOCS_API_VERSION).toBe(DEFAULT_API_VERSION)
  })

  it('every value the chart sets for a setting with a default in the code is that default', () => {
    const shape = envSchema.shape as Record<
      string,
      { safeParse: (v: unknown) => { success: boolean; data?: unknown } }
    >
    const checked: string[] = []
    for (const [name, value] of Object.entries(values.config)) {
      const field = shape[name]
      expect(field, `${name} is a setting of the bridge`).toBeDefined()
      const byDefault = field?.safeParse(undefined)
      // Required settings (no default) and the empty string (unset) have nothing to agree with.
      if (byDefault?.success !== true || byDefault.data === undefined || value === '') continue
      expect(field?.safeParse(value).data, name).toEqual(byDefault.data)
      checked.push(name)
    }
    expect(checked).toContain('LIVINGDOCS_API_VERSION')
  })
})
