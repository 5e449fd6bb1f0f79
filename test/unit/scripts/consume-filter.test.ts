// What `npm run consume` prints and counts: filters by state, reason (class, DLQ code or text) and
// externalId, and the counts by state, FAILED by reason class, DLQ records by reason code.
import { describe, expect, it } from 'vitest'
import { type Filters, factsOf, matches, StateCounts } from '../../../scripts/consume-filter.ts'

const result = (externalId: string, state: string, reason: string | null = null) =>
  factsOf({ key: `archive:${externalId}`, headers: {}, value: { externalId, state, reason } })
const dlq = (key: string, reason: string) =>
  factsOf({ key, headers: { 'dlq.reason': reason }, value: 'not an event' })

const a = result('a', 'SUCCESS')
const b = result('b', 'FAILED', 'Could not upload file: HTTP 404')
const c = result('c', 'FAILED', 'timeout')
const d = result('d', 'SKIPPED', 'already exists')
const e = dlq('e', 'INVALID_JSON')

describe('matches', () => {
  it.each<[string, Filters, Array<ReturnType<typeof result>>]>([
    ['no filter keeps everything', {}, [a, b, c, d, e]],
    ['a state', { states: ['FAILED'] }, [b, c]],
    ['several states', { states: ['SUCCESS', 'SKIPPED'] }, [a, d]],
    ['a FAILED reason class', { reason: 'upload' }, [b]],
    ['another class', { reason: 'timeout' }, [c]],
    ['a DLQ reason code', { reason: 'INVALID_JSON' }, [e]],
    ['text of the reason, any case', { reason: 'ALREADY' }, [d]],
    ['an externalId (a DLQ record by its key)', { externalId: 'e' }, [e]],
    ['all filters together', { states: ['FAILED'], reason: 'upload', externalId: 'c' }, []],
  ])('%s', (_what, filters, kept) => {
    expect([a, b, c, d, e].filter((f) => matches(f, filters))).toEqual(kept)
  })
})

describe('StateCounts', () => {
  it('counts by state, FAILED by reason class and DLQ records by code, in one line', () => {
    const counts = new StateCounts()
    for (const f of [a, a, b, b, c, d, e]) counts.add(f)
    expect(counts.summary()).toBe('SUCCESS=2 SKIPPED=1 FAILED=3 (upload=2 timeout=1) DLQ=1 (INVALID_JSON=1)')
  })

  it('leaves out SKIPPED and DLQ when there are none', () => {
    const counts = new StateCounts()
    counts.add(a)
    expect(counts.summary()).toBe('SUCCESS=1 FAILED=0')
  })
})
