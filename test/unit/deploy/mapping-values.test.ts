// The chart's CI mapping (helm/file-import-bridge/ci/mapping-values.yaml) is the example of
// docs/mapping.md, and a mapping the bridge accepts: what check-deploy renders into the ConfigMap would
// start a pod.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { loadMapping } from '../../../src/mapping/compile.ts'
import { readmeMappingExample, tempFile } from '../../support/mapping-example.ts'

describe('chart CI values with a mapping', () => {
  it('hold the example mapping of docs/mapping.md, which compiles', () => {
    const values = YAML.parse(
      readFileSync(
        resolve(import.meta.dirname, '../../../helm/file-import-bridge/ci/mapping-values.yaml'),
        'utf8',
      ),
    ) as { mapping: { content: string } }
    expect(values.mapping.content.trim()).toBe(readmeMappingExample().mapping.trim())
    const problems: string[] = []
    expect(loadMapping(tempFile('mapping.yaml', values.mapping.content), problems)).toBeDefined()
    expect(problems).toEqual([])
  })
})
