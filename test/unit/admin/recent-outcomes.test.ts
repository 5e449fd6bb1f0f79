import { describe, expect, it } from 'vitest'
import { RecentOutcomes } from '../../../src/admin/recent-outcomes.ts'
import { durationText, escapeHtml } from '../../../src/admin/status-page.ts'
import type { ConcludedJob } from '../../../src/model/outcomes.ts'
import { batchOfFiles, pendingFile } from '../../support/pending-file.ts'

function job(states: Array<['imported' | 'skipped' | 'failed', string?]>): ConcludedJob {
  const files = states.map((_, i) => pendingFile(`f${i}`))
  return {
    jobId: 'j',
    batch: batchOfFiles(files),
    outcomes: files.map((file, i) => {
      const [state, reason] = states[i] ?? ['imported']
      return {
        file,
        outcome: {
          externalId: file.event.externalId,
          systemName: 'archive',
          state,
          mediaId: undefined,
          reason,
        },
      }
    }),
  }
}

describe('RecentOutcomes', () => {
  it('counts the files of the last hour by state and FAILED reason, and forgets older ones', () => {
    const recent = new RecentOutcomes(3_600_000)
    const t0 = 1_800_000_000_000
    recent.record(job([['imported'], ['failed', 'download failed: 404 Not Found']]), t0)
    recent.record(
      job([['skipped'], ['failed', 'download failed: timeout'], ['failed', 'TOO_LARGE: 9 MB']]),
      t0 + 30 * 60_000,
    )
    expect(recent.counts(t0 + 31 * 60_000)).toEqual({
      windowMs: 3_600_000,
      byState: { SUCCESS: 1, SKIPPED: 1, FAILED: 3 },
      failedByReason: { 'download failed': 2, TOO_LARGE: 1 },
    })
    expect(recent.counts(t0 + 62 * 60_000).byState).toEqual({ SUCCESS: 0, SKIPPED: 1, FAILED: 2 })
  })
})

describe('the status page helpers', () => {
  it('escapes HTML and writes durations in words', () => {
    expect(escapeHtml(`<a href="x">'&`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;')
    expect(
      [42_000, 7 * 60_000, 3 * 3_600_000 + 5 * 60_000, 2 * 86_400_000 + 4 * 3_600_000].map(durationText),
    ).toEqual(['42 s', '7 min', '3 h 05 min', '2 d 04 h'])
  })
})
