// Start-up checks of a mapping file: every problem is named by field (and place, for a syntax error),
// and a mapping that can never work is refused before anything starts.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.ts'
import { isBridgeError } from '../../../src/errors.ts'
import { loadMapping } from '../../../src/mapping/compile.ts'
import { tempFile } from '../../support/mapping-example.ts'

const REQUIRED = 'externalId: id\nurl: link\nfileName: title\n'

/** The problems of a mapping file holding `text`, without the `MAPPING_FILE: <path>: ` prefix. */
function problemsOf(text: string, name = 'm.yaml'): string[] {
  const path = tempFile(name, text)
  const problems: string[] = []
  const mapping = loadMapping(path, problems)
  if (problems.length > 0) expect(mapping).toBeUndefined()
  for (const p of problems) expect(p.startsWith(`MAPPING_FILE: ${path}: `)).toBe(true)
  return problems.map((p) => p.slice(`MAPPING_FILE: ${path}: `.length))
}

describe('mapping file at start-up', () => {
  it('accepts a valid mapping in YAML and in JSON', () => {
    expect(problemsOf(`${REQUIRED}filter: type = "x"\nmetadata: '{"a": a}'\noccurredAt: at\n`)).toEqual([])
    expect(problemsOf(JSON.stringify({ externalId: 'id', url: 'link', fileName: '"x"' }), 'm.json')).toEqual(
      [],
    )
  })

  it('names the field, line, column and code of a syntax error', () => {
    expect(problemsOf(`${REQUIRED.replace('link', 'links[kind = "original"')}`)).toEqual([
      'url: syntax error at line 1, column 23 of its expression: Expected "]" before end of expression (JSONata S0203)',
    ])
    // Within a block scalar (YAML strips its indentation): the line and column within the expression
    expect(problemsOf(`externalId: id\nfileName: t\nurl: |\n  a.b[\n    kind = ]\n`)).toEqual([
      'url: syntax error at line 2, column 10 of its expression: The symbol "]" cannot be used as a unary operator (JSONata S0211)',
    ])
    expect(problemsOf(`${REQUIRED}filter: eventType = "A" and\n`)).toEqual([
      'filter: syntax error at line 1, column 19 of its expression: Unexpected end of expression (JSONata S0207)',
    ])
  })

  it("reports every problem at once, in the fields' order: each syntax error and each missing required field", () => {
    expect(problemsOf('url: a.(\nmetadata: "{"\n')).toEqual([
      'url: syntax error at line 1, column 3 of its expression: Expected ")" before end of expression (JSONata S0203)',
      'metadata: syntax error at line 1, column 1 of its expression: Expected ":" before end of expression (JSONata S0203)',
      'externalId: is required (every mapping gives externalId, url and fileName)',
      'fileName: is required (every mapping gives externalId, url and fileName)',
    ])
  })

  it('refuses constants that can never do: null or a wrong type for a field, a filter always false', () => {
    expect(
      problemsOf(
        `externalId: 'null'\nurl: '42'\nfileName: '"ok"'\nmetadata: '"x"'\nmediaType: '[1]'\noccurredAt: 'true'\nsystemName: '("a"; {})'\nfilter: 'false'\n`,
      ),
    ).toEqual([
      `externalId: is always null, but must give a string (a text constant is quoted inside the expression: '"file"')`,
      `url: is always a number, but must give a string (a text constant is quoted inside the expression: '"file"')`,
      `mediaType: is always an array, but must give a string (a text constant is quoted inside the expression: '"file"')`,
      'metadata: is always a string, but must give a JSON object',
      `systemName: is always an object, but must give a string (a text constant is quoted inside the expression: '"file"')`,
      'occurredAt: is always a boolean, but must give epoch ms (a number) or an ISO 8601 date-time string',
      'filter: is always false: it would skip every event',
    ])
    expect(problemsOf(`${REQUIRED}filter: '"yes"'\n`)).toEqual([
      'filter: is always a string, but must give true or false',
    ])
    // Constants of the right type, and expressions whose type depends on the event, are fine
    expect(
      problemsOf(`${REQUIRED}occurredAt: '0'\nmetadata: '{}'\nfilter: 'true'\nmediaType: '"a"[0]'\n`),
    ).toEqual([])
  })

  it('refuses unknown keys by name, values that are not strings, and empty expressions', () => {
    expect(problemsOf(`${REQUIRED}mimetype: mime\ntitle: t\n`)).toEqual([
      'unknown keys mimetype, title: a mapping holds only externalId, url, fileName, mediaType, metadata, systemName, mimeType, occurredAt, checksum, filter',
    ])
    expect(problemsOf('externalId: 42\nurl: [a]\nfileName: " "\n')).toEqual([
      'externalId: must be a JSONata expression as a string (quote it in YAML)',
      'url: must be a JSONata expression as a string (quote it in YAML)',
      'fileName: is empty',
    ])
  })

  it('refuses a file that is not YAML, has repeated keys, is empty or a list, or cannot be read', () => {
    expect(problemsOf(`${REQUIRED}url: other\n`)).toEqual([
      'not valid YAML or JSON: Map keys must be unique at line 4, column 1:',
    ])
    expect(problemsOf('externalId: [a\n')[0]).toMatch(/^not valid YAML or JSON: /)
    expect(problemsOf('')).toEqual(['must be an object of field: expression (found an empty file)'])
    expect(problemsOf('- a\n')).toEqual(['must be an object of field: expression (found a list)'])
    const problems: string[] = []
    expect(loadMapping('/nonexistent/m.yaml', problems)).toBeUndefined()
    expect(problems).toEqual(['MAPPING_FILE: /nonexistent/m.yaml: cannot read the file (ENOENT)'])
  })

  it('is part of the configuration: its problems come with the other settings', () => {
    const path = tempFile('m.yaml', 'url: a.(\n')
    let error: unknown
    try {
      loadConfig({ MAPPING_FILE: path, LIVINGDOCS_BASE_URL: 'https://x.example' }, { loadMapping })
    } catch (err) {
      error = err
    }
    expect(isBridgeError(error, 'CONFIG_INVALID')).toBe(true)
    const message = (error as Error).message
    expect(message).toContain('KAFKA_BROKERS: is required')
    expect(message).toContain(
      `MAPPING_FILE: ${path}: url: syntax error at line 1, column 3 of its expression`,
    )
    expect(message).toContain(`MAPPING_FILE: ${path}: externalId: is required`)
  })

  it('leaves the configuration without a mapping when MAPPING_FILE is unset', () => {
    const env = {
      KAFKA_BROKERS: 'k:9092',
      SCHEMA_REGISTRY_URL: 'http://r:8081',
      LIVINGDOCS_BASE_URL: 'https://x.example',
      LIVINGDOCS_ACCESS_TOKEN: 't',
    }
    expect(loadConfig(env, { loadMapping }).mapping).toBeUndefined()
    const mapping = loadConfig(
      { ...env, MAPPING_FILE: tempFile('m.yaml', REQUIRED) },
      { loadMapping },
    ).mapping
    expect(mapping?.expressions).toEqual({ externalId: 'id', url: 'link', fileName: 'title' })
  })
})
