// The API budget: MAX_JOBS_IN_FLIGHT and API_RATE_LIMIT_PER_SECOND as the consumer group's totals, each
// member taking what its partitions carry.
import { describe, expect, it, vi } from 'vitest'
import { type ApiShare, createApiBudget, groupShare, partitionShare } from '../../../src/jobs/api-budget.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { LogLines } from '../../support/log-lines.ts'

/** kafkajs' round-robin assignor over one topic: member i gets partitions i, i + n, i + 2n, … */
function roundRobin(members: number, partitions: number): number[][] {
  return Array.from({ length: members }, (_, m) =>
    Array.from({ length: partitions }, (_, p) => p).filter((p) => p % members === m),
  )
}

/** kafkajs' range assignor: consecutive blocks, the first members one more. */
function ranges(members: number, partitions: number): number[][] {
  const size = Math.floor(partitions / members)
  const extra = partitions % members
  let next = 0
  return Array.from({ length: members }, (_, m) => {
    const n = size + (m < extra ? 1 : 0)
    const block = Array.from({ length: n }, (_, i) => next + i)
    next += n
    return block
  })
}

describe('partitionShare', () => {
  it.each([
    [10, 6, [2, 2, 2, 2, 1, 1]],
    [6, 6, [1, 1, 1, 1, 1, 1]],
    [6, 4, [2, 2, 1, 1]],
    [2, 6, [1, 1, 0, 0, 0, 0]],
    [100, 3, [34, 33, 33]],
  ])('spreads %i over %i partitions, the remainder to the lowest: %j', (total, count, expected) => {
    const shares = Array.from({ length: count }, (_, p) => partitionShare(total, p, count))
    expect(shares).toEqual(expected)
    expect(shares.reduce((a, b) => a + b, 0)).toBe(total)
  })
})

describe('groupShare', () => {
  // Every member count from 1 to the partitions, both assignors, several totals: the shares add up to the
  // total whenever each member's partitions carry at least 1, and no member gets 0.
  for (const assign of [roundRobin, ranges])
    for (const partitions of [1, 3, 6, 12])
      for (let members = 1; members <= partitions; members++)
        for (const total of [1, 6, 10, 37])
          it(`${assign.name}: ${total} over ${members} members on ${partitions} partitions`, () => {
            const shares = assign(members, partitions).map((owned) => groupShare(total, owned, partitions))
            expect(Math.min(...shares)).toBeGreaterThanOrEqual(1)
            const sum = shares.reduce((a, b) => a + b, 0)
            const carriers = assign(members, partitions).filter((owned) =>
              owned.some((p) => partitionShare(total, p, partitions) > 0),
            ).length
            // Never more than the total, except the one each member gets when its partitions carry none
            expect(sum).toBe(total + (members - carriers))
          })

  it('the issue case: 10 requests/s and 6 jobs over 3 replicas on 6 partitions, then 2', () => {
    expect(roundRobin(3, 6).map((o) => groupShare(10, o, 6))).toEqual([4, 3, 3])
    expect(roundRobin(3, 6).map((o) => groupShare(6, o, 6))).toEqual([2, 2, 2])
    expect(roundRobin(2, 6).map((o) => groupShare(10, o, 6))).toEqual([5, 5])
    expect(roundRobin(2, 6).map((o) => groupShare(6, o, 6))).toEqual([3, 3])
  })

  it('a member without partitions (more replicas than partitions) still gets one', () => {
    expect(groupShare(10, [], 6)).toBe(1)
  })
})

describe('createApiBudget', () => {
  function setup(options: {
    scope: 'group' | 'replica'
    maxJobsInFlight: number
    rateLimitPerSecond: number
    readPartitionCount?: () => Promise<number>
  }) {
    const applied: ApiShare[] = []
    const logs = new LogLines()
    const metrics = createMetrics()
    const budget = createApiBudget(options, {
      apply: (share) => applied.push(share),
      partitionCount: 6,
      ...(options.readPartitionCount === undefined ? {} : { readPartitionCount: options.readPartitionCount }),
      logger: createLogger({ level: 'info', destination: logs.writable() }),
      metrics,
    })
    return { budget, applied, logs, metrics }
  }

  it('applies the least share before the first join, then each new share after a rebalance', async () => {
    // Given a group budget of 6 jobs and 10 requests/s on 6 partitions
    const { budget, applied, logs, metrics } = setup({
      scope: 'group',
      maxJobsInFlight: 6,
      rateLimitPerSecond: 10,
    })
    // Then before the first join this member owns nothing: one job, one request per second
    expect(applied).toEqual([{ maxJobsInFlight: 1, rateLimitPerSecond: 1 }])
    // When it joins with partitions 0 and 3 of 3 members, then with 0, 2 and 4 of 2 members
    budget.assigned([0, 3])
    budget.assigned([0, 2, 4])
    // And a rebalance gives it the same partitions again (nothing changes)
    budget.assigned([0, 2, 4])
    // Then it applied each share once, and says so in one log line each
    expect(applied.slice(1)).toEqual([
      { maxJobsInFlight: 2, rateLimitPerSecond: 4 },
      { maxJobsInFlight: 3, rateLimitPerSecond: 5 },
    ])
    const lines = logs.withMsg("API budget: this replica's share of the consumer group's")
    expect(lines.at(-1)).toMatchObject({
      maxJobsInFlight: 3,
      rateLimitPerSecond: 5,
      partitions: [0, 2, 4],
      partitionCount: 6,
    })
    expect(lines).toHaveLength(3)
    // And the gauge shows the share
    const gauge = await metrics.registry.getSingleMetricAsString('bridge_api_budget')
    expect(gauge).toContain('bridge_api_budget{limit="jobs_in_flight"} 3')
    expect(gauge).toContain('bridge_api_budget{limit="requests_per_second"} 5')
  })

  it('follows a partition count that grew', () => {
    const { budget, applied } = setup({ scope: 'group', maxJobsInFlight: 12, rateLimitPerSecond: 0 })
    budget.assigned([0, 1, 2])
    expect(applied.at(-1)).toEqual({ maxJobsInFlight: 6, rateLimitPerSecond: 0 })
    budget.setPartitionCount(12)
    expect(applied.at(-1)).toEqual({ maxJobsInFlight: 3, rateLimitPerSecond: 0 })
  })

  it('reads the partition count again after each join, keeping the last one when the read fails', async () => {
    // Given a topic that has grown from 6 to 12 partitions, then a read that fails
    const counts: Array<() => Promise<number>> = [
      async () => 12,
      async () => {
        throw new Error('broker away')
      },
    ]
    const { budget, applied, logs } = setup({
      scope: 'group',
      maxJobsInFlight: 12,
      rateLimitPerSecond: 0,
      readPartitionCount: () => (counts.shift() as () => Promise<number>)(),
    })
    // When it joins with 3 partitions: first by the count it knew (6), then by the one read (12)
    budget.assigned([0, 1, 2])
    expect(applied.at(-1)).toEqual({ maxJobsInFlight: 6, rateLimitPerSecond: 0 })
    await vi.waitFor(() => expect(applied.at(-1)).toEqual({ maxJobsInFlight: 3, rateLimitPerSecond: 0 }))
    // And at the next join a failed read keeps 12, with a warning
    budget.assigned([0, 1, 2, 3])
    await vi.waitFor(() =>
      expect(logs.withMsg('API budget: partition count not read; keeping the last one')).toHaveLength(1),
    )
    expect(applied.at(-1)).toEqual({ maxJobsInFlight: 4, rateLimitPerSecond: 0 })
  })

  it('with API_LIMITS_SCOPE=replica keeps the whole of both limits whatever it owns', () => {
    const { budget, applied } = setup({ scope: 'replica', maxJobsInFlight: 6, rateLimitPerSecond: 10 })
    budget.assigned([0])
    budget.assigned([])
    expect(applied).toEqual([{ maxJobsInFlight: 6, rateLimitPerSecond: 10 }])
  })
})
