// EarlyWebhooks: webhooks of jobs whose submit answer has not been processed yet, bounded in time and count.
import { describe, expect, it } from 'vitest'
import { EARLY_WEBHOOK_LIMIT, EARLY_WEBHOOK_TTL_MS, EarlyWebhooks } from '../../../src/jobs/early-webhooks.ts'

const T0 = 1_000_000

describe('EarlyWebhooks', () => {
  it('remembers a webhook of a job until its submit completes, once', () => {
    const early = new EarlyWebhooks()
    early.note('j1', undefined, T0)
    expect(early.take('j1', 'b1')).toBe(true)
    expect(early.take('j1', 'b1')).toBe(false)
  })

  it('matches a webhook that carried the batch id only with that batch', () => {
    const early = new EarlyWebhooks()
    early.note('j1', 'b9', T0)
    expect(early.take('j1', 'b1')).toBe(false)
    early.note('j1', 'b1', T0)
    expect(early.take('j1', 'b1')).toBe(true)
  })

  it('remembers a webhook that named no job by its batch', () => {
    const early = new EarlyWebhooks()
    early.note(undefined, 'b1', T0)
    expect(early.take('j7', 'b2')).toBe(false)
    expect(early.take('j7', 'b1')).toBe(true)
    expect(early.take('j7', 'b1')).toBe(false)
  })

  it('notes nothing for a webhook that named neither a job nor a batch', () => {
    const early = new EarlyWebhooks()
    early.note(undefined, undefined, T0)
    expect(early.take('j1', 'b1')).toBe(false)
  })

  it('does not read for a webhook of another job', () => {
    const early = new EarlyWebhooks()
    early.note('j-other', undefined, T0)
    expect(early.take('j1', 'b1')).toBe(false)
    expect(early.take('j-other', 'b1')).toBe(true)
  })

  it('forgets notes older than the TTL when the next one is noted', () => {
    const early = new EarlyWebhooks()
    early.note('j1', undefined, T0)
    early.note('j2', undefined, T0 + 1)
    // When a note comes a TTL after the first
    early.note('j3', undefined, T0 + EARLY_WEBHOOK_TTL_MS)
    // Then the first is forgotten, the second (younger than the TTL) kept
    expect(early.take('j1', 'b')).toBe(false)
    expect(early.take('j2', 'b')).toBe(true)
    expect(early.take('j3', 'b')).toBe(true)
  })

  it('keeps at most EARLY_WEBHOOK_LIMIT notes, forgetting the oldest', () => {
    const early = new EarlyWebhooks()
    for (let i = 0; i <= EARLY_WEBHOOK_LIMIT; i++) early.note(`j${i}`, undefined, T0 + i)
    expect(early.take('j0', 'b')).toBe(false)
    expect(early.take('j1', 'b')).toBe(true)
    expect(early.take(`j${EARLY_WEBHOOK_LIMIT}`, 'b')).toBe(true)
  })
})
