// The mapping example of docs/mapping.md, run as the dry run runs it: the page shows exactly what it prints.

import { describe, expect, it } from 'vitest'
import { exportRecords, formatReport, reportOf, Tally } from '../../../scripts/map-report.ts'
import { DEFAULT_MEDIA_KINDS } from '../../../src/events/media-kind.ts'
import { loadMappingOrThrow } from '../../../src/mapping/compile.ts'
import { createMappedDecoder } from '../../../src/mapping/mapped-decoder.ts'
import { readmeMappingExample, tempFile } from '../../support/mapping-example.ts'
import { unusedCodec } from './helpers.ts'

/** The example of docs/mapping.md, and the bridge's decoder with its mapping. */
function example() {
  const shown = readmeMappingExample()
  const mapping = loadMappingOrThrow(tempFile('dam-mapping.yaml', shown.mapping))
  const options = { defaultSystemName: undefined, mediaKinds: DEFAULT_MEDIA_KINDS }
  return { ...shown, decode: createMappedDecoder(unusedCodec, options, mapping) }
}

describe('the mapping example of docs/mapping.md', () => {
  it('turns the example event into the entry the page shows', async () => {
    // Given the page's event, its mapping and the output it shows
    const { input, output, decode } = example()

    // When the dry run's steps run on the event as the file dam.ndjson
    const tally = new Tally()
    const printed: string[] = []
    for (const { at, record } of exportRecords('dam.ndjson', `${input}\n`, 0)) {
      const report = reportOf(at, await decode(record))
      tally.add(report)
      printed.push(formatReport(report))
    }
    printed.push(tally.summary())

    // Then it prints exactly the page's output
    expect(printed.join('\n')).toBe(output)
  })

  it('skips the example event of another type, and dead-letters one without an original rendition', async () => {
    const { input, decode } = example()
    const event = JSON.parse(input)
    const lines = [
      { ...event, eventType: 'ASSET_DELETED' },
      {
        ...event,
        asset: { ...event.asset, renditions: [{ kind: 'thumbnail', href: 'https://x.test/t.jpg' }] },
      },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n')
    const reports = []
    for (const { at, record } of exportRecords('dam.ndjson', lines, 0))
      reports.push(reportOf(at, await decode(record)))
    expect(reports).toEqual([
      { at: 'dam.ndjson:1', outcome: 'filtered', reason: 'rejected' },
      {
        at: 'dam.ndjson:2',
        outcome: 'dlq',
        reason: 'MAPPING_FAILED',
        field: 'url',
        message: 'url: gave no value for this event',
      },
    ])
  })
})
