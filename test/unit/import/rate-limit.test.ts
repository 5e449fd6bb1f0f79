// RateLimit: at most perSecond requests per second as the server sees them (a slot is free again one
// second after its request's answer), changeable while requests wait.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_WAIT_BEHIND_MS, RateLimit, RequestWithdrawn } from '../../../src/import/rate-limit.ts'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/**
 * Runs one request per label at once, each answered `answerMs` after it started; `started` lists the
 * labels in the order they started.
 */
function ask(limit: RateLimit, labels: string[], priority = 0, answerMs = 0) {
  const started: string[] = []
  for (const label of labels)
    void limit.run(priority, async () => {
      started.push(label)
      if (answerMs > 0) await new Promise((done) => setTimeout(done, answerMs))
      return label
    })
  return started
}

describe('RateLimit', () => {
  it('runs at most perSecond requests a second, each slot free one second after its answer', async () => {
    // Given 2 per second and 5 requests at once, answered at once
    const limit = new RateLimit(2)
    const started = ask(limit, ['a', 'b', 'c', 'd', 'e'])
    // Then 2 start now, 2 more a second later, the last after two
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual(['a', 'b'])
    await vi.advanceTimersByTimeAsync(999)
    expect(started).toEqual(['a', 'b'])
    await vi.advanceTimersByTimeAsync(1)
    expect(started).toEqual(['a', 'b', 'c', 'd'])
    await vi.advanceTimersByTimeAsync(1000)
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('counts a slot’s second from the answer: a slow request keeps its slot longer', async () => {
    // Given 1 per second and requests answered 300 ms after they start
    const limit = new RateLimit(1)
    const started = ask(limit, ['a', 'b'], 0, 300)
    await vi.advanceTimersByTimeAsync(1299)
    expect(started).toEqual(['a'])
    // Then the next starts a second after the first one's answer, not after its start
    await vi.advanceTimersByTimeAsync(1)
    expect(started).toEqual(['a', 'b'])
  })

  it('withdraws a request its caller no longer wants when its turn comes: never sent, and its slot goes to the next at once', async () => {
    // Given 1 per second, one request in flight, and two waiting: the first of them no longer wanted by its turn
    const limit = new RateLimit(1)
    const started = ask(limit, ['a'])
    let wanted = true
    const sent: string[] = []
    const withdrawn = limit.run(
      0,
      async () => {
        sent.push('b')
        return 'b'
      },
      () => wanted,
    )
    const outcome = withdrawn.then(
      () => 'sent',
      (err: unknown) => (err instanceof RequestWithdrawn ? 'withdrawn' : 'other'),
    )
    const next = ask(limit, ['c'])
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual(['a'])
    wanted = false

    // When the slot frees a second later
    await vi.advanceTimersByTimeAsync(1000)

    // Then the unwanted request rejects unsent, and the next one starts in the same instant
    expect(await outcome).toBe('withdrawn')
    expect(sent).toEqual([])
    expect(next).toEqual(['c'])
  })

  it('gives the request’s answer at once, and its error', async () => {
    const limit = new RateLimit(1)
    await expect(limit.run(0, async () => 'answer')).resolves.toBe('answer')
    const failing = expect(
      limit.run(0, async () => {
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    await vi.advanceTimersByTimeAsync(1000)
    await failing
  })

  it('a raised limit starts waiting requests at once; the slots held still count', async () => {
    // Given 1 per second: one started, four waiting
    const limit = new RateLimit(1)
    const started = ask(limit, ['a', 'b', 'c', 'd', 'e'])
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual(['a'])
    // When the limit becomes 3 (this replica's share grew at a rebalance)
    limit.perSecond = 3
    await vi.advanceTimersByTimeAsync(0)
    // Then two more start now: three slots held, 'a' among them
    expect(started).toEqual(['a', 'b', 'c'])
    await vi.advanceTimersByTimeAsync(1000)
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('a lowered limit lets the held slots free first: nothing in flight is dropped', async () => {
    // Given 4 per second, all four started, two waiting
    const limit = new RateLimit(4)
    const started = ask(limit, ['a', 'b', 'c', 'd', 'e', 'f'])
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toHaveLength(4)
    // When the limit falls to 1
    limit.perSecond = 1
    // Then the next starts once the four slots are free, one per second after that
    await vi.advanceTimersByTimeAsync(1000)
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e'])
    await vi.advanceTimersByTimeAsync(999)
    expect(started).toHaveLength(5)
    await vi.advanceTimersByTimeAsync(1)
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
  })

  it('starts waiting requests by priority, then in arrival order', async () => {
    const limit = new RateLimit(1)
    const reads = ask(limit, ['r1', 'r2', 'r3'], 0)
    await vi.advanceTimersByTimeAsync(0)
    const submits = ask(limit, ['s1'], 1)
    await vi.advanceTimersByTimeAsync(1000)
    expect([reads, submits]).toEqual([['r1'], ['s1']])
    await vi.advanceTimersByTimeAsync(1000)
    expect(reads).toEqual(['r1', 'r2'])
  })

  it('0 is no limit, also after a change', async () => {
    const limit = new RateLimit(0)
    const started = ask(limit, ['a', 'b', 'c'])
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toHaveLength(3)
    limit.perSecond = 1
    const later = ask(limit, ['d', 'e'])
    await vi.advanceTimersByTimeAsync(0)
    expect(later).toEqual(['d'])
    limit.perSecond = 0
    await vi.advanceTimersByTimeAsync(0)
    expect(later).toEqual(['d', 'e'])
  })

  it('clear() rejects the waiting requests with an AbortError', async () => {
    const limit = new RateLimit(1)
    await limit.run(0, async () => undefined)
    const waiting = limit.run(0, async () => undefined)
    limit.clear()
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('RateLimit priorities', () => {
  it('starts a lower priority request that waited MAX_WAIT_BEHIND_MS before the higher ones that keep coming', async () => {
    // Given 1 per second, a status read (priority 0) waiting, and a submit (priority 1) added every
    // 500 ms, more than the limit lets through
    const limit = new RateLimit(1)
    const started: string[] = []
    const run = (label: string, priority: number) =>
      void limit.run(priority, async () => {
        started.push(label)
      })
    run('s0', 1)
    run('read', 0)
    for (let i = 1; i <= 8; i++) {
      await vi.advanceTimersByTimeAsync(500)
      run(`s${i}`, 1)
    }
    // Then the submits go first until the read has waited MAX_WAIT_BEHIND_MS; then the read goes next
    await vi.advanceTimersByTimeAsync(0)
    expect(started.indexOf('read')).toBeGreaterThan(0)
    expect(started.indexOf('read')).toBeLessThanOrEqual(MAX_WAIT_BEHIND_MS / 1000 + 1)
    expect(started.slice(0, 2)).toEqual(['s0', 's1'])
  })
})
