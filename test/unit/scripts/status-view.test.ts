// How `npm run status` words a reading: durations, rates, the one-shot summary and its JSON.
import { describe, expect, it } from 'vitest'
import { formatDuration, formatRate, summaryJson, summaryLines } from '../../../scripts/status-view.ts'
import { progressOf } from '../../../src/progress/progress.ts'

const snapshot = {
  topic: 'legacy.file-created',
  groupId: 'file-import-bridge',
  at: Date.UTC(2026, 0, 5, 8, 0, 0),
  partitions: [
    { partition: 0, logStart: 0n, logEnd: 1000n, committed: 1000n },
    { partition: 1, logStart: 0n, logEnd: 3000n, committed: 600n },
  ],
}

describe('formatDuration and formatRate', () => {
  it.each([
    [null, '-'],
    [12.4, '12s'],
    [274, '4m 34s'],
    [7500, '2h 05m'],
    [3 * 86_400 + 4 * 3600, '3d 04h'],
  ])('%s s is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text)
  })

  it('gives rates with three figures at most', () => {
    expect(formatRate(41.23)).toBe('41.2/s')
    expect(formatRate(0.0512)).toBe('0.051/s')
    expect(formatRate(null)).toBe('-')
  })
})

describe('summaryLines', () => {
  it('gives a line per partition and a total with the rate, its source and the ETA', () => {
    const progress = progressOf(snapshot, { total: 40 })
    expect(summaryLines(progress, { kind: 'results', windowMs: 300_000 })).toEqual([
      'status: group file-import-bridge on legacy.file-created, 2 partitions, read 2026-01-05T08:00:00.000Z',
      '  partition 0: 1000/1000 done (100.0%), 0 behind, ETA 0s',
      '  partition 1: 600/3000 done (20.0%), 2400 behind',
      'total: 1600/4000 done (40.0%), 2400 behind, 40.0/s, ETA 1m 00s (about 2026-01-05T08:01:00Z); rate from the result and DLQ topics, last 5 min',
    ])
  })

  it('says a drained group is drained', () => {
    const drained = progressOf(
      { ...snapshot, partitions: [snapshot.partitions[0] as (typeof snapshot.partitions)[0]] },
      { total: 0 },
    )
    expect(summaryLines(drained, { kind: 'commits', windowMs: 300_000 }).at(-1)).toBe(
      'total: drained 1000/1000 done (100.0%), 0 behind, 0.0/s, ETA 0s; rate from the committed offsets, averaged over 5 min',
    )
  })

  it('gives the same reading as JSON, offsets as strings', () => {
    const json = JSON.parse(
      summaryJson(progressOf(snapshot, { total: 40 }), { kind: 'results', windowMs: 300_000 }),
    )
    expect(json).toMatchObject({
      topic: 'legacy.file-created',
      partitions: [
        { partition: 0, logEnd: '1000', committed: '1000', behind: 0 },
        { partition: 1, behind: 2400 },
      ],
      total: { done: 1600, behind: 2400, total: 4000, ratePerSecond: 40, etaSeconds: 60 },
      rateSource: { kind: 'results', windowMs: 300_000 },
    })
  })
})
