import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'

/**
 * Whose limits `API_RATE_LIMIT_PER_SECOND` and `MAX_JOBS_IN_FLIGHT` are (`API_LIMITS_SCOPE`): the whole
 * consumer group's, shared by its members (`group`), or each replica's own (`replica`).
 */
export type ApiLimitsScope = 'group' | 'replica'

/** Options of {@link createApiBudget}. */
export interface ApiBudgetOptions {
  scope: ApiLimitsScope
  /** `MAX_JOBS_IN_FLIGHT`: import jobs submitted and not finished, at most (≥ 1). */
  maxJobsInFlight: number
  /** `API_RATE_LIMIT_PER_SECOND`: requests started per second, at most; 0 = no limit. */
  rateLimitPerSecond: number
}

/** What one replica may use of the API: the limits its job slots and its rate limit apply. */
export interface ApiShare {
  maxJobsInFlight: number
  /** 0 = no limit. */
  rateLimitPerSecond: number
}

/**
 * What partition `partition` of `partitionCount` carries of `total`: the total spread evenly, and the
 * remainder one each to the lowest partitions (`floor(total / count)`, plus 1 below `total mod count`).
 * Summed over every partition it is `total` exactly.
 */
export function partitionShare(total: number, partition: number, partitionCount: number): number {
  return Math.floor(total / partitionCount) + (partition < total % partitionCount ? 1 : 0)
}

/**
 * One member's share of a group-wide `total`: what its partitions carry ({@link partitionShare}), never
 * below 1. Every member computes its own from what it alone knows and every member agrees on, its
 * assignment and the topic's partition count, so the members' shares add up to `total` whatever the
 * assignor (while every member that owns a partition carries at least 1: a total smaller than the
 * members that own partitions gives each of them 1, and the group that many).
 *
 * @param owned the partitions of the input topic this member owns (of this generation)
 * @param partitionCount the input topic's partitions (≥ 1)
 */
export function groupShare(total: number, owned: readonly number[], partitionCount: number): number {
  let share = 0
  for (const p of owned) share += partitionShare(total, p, partitionCount)
  return Math.max(1, share)
}

/**
 * Keeps this replica's use of the import API within its share of the consumer group's budget
 * (`API_LIMITS_SCOPE=group`, the default): `MAX_JOBS_IN_FLIGHT` and `API_RATE_LIMIT_PER_SECOND` are
 * totals for the group, shared by partitions, and each member takes what its partitions carry
 * ({@link groupShare}), anew after every rebalance. Every request and job of this replica counts against
 * its share, those of jobs it adopted after a rebalance as much as those it submitted.
 *
 * Why by partitions, not by members: a member knows its own assignment (kafkajs' `GROUP_JOIN` payload
 * has this member's `memberAssignment` only; the member list of a JoinGroup answer goes to the leader
 * alone, Kafka protocol "JoinGroup"), and the partition count is the same for every member; the shares
 * of one generation therefore add up to the total without a request per rebalance (admin
 * `describeGroups` would need one, and could see a later generation than the one joined). Records come
 * by partition, so a member with more partitions also has more to submit.
 *
 * Between rebalances the shares hold. At one, jobs in flight are kept: a replica whose share shrank
 * submits nothing until its jobs are below the new share, while one whose share grew may start at
 * once, so for up to one job's duration (and one second of requests) the group can hold more than its
 * total. A member that leaves keeps its share until it left, which the others only take at the next join.
 *
 * Before its first join a member owns nothing and takes the least share (one job, one request per
 * second); with `API_LIMITS_SCOPE=replica` it always takes the whole of both limits.
 *
 * @param deps.apply sets the job slots' limit and the rate limit to a share (called at once, and after
 *   every change)
 * @param deps.partitionCount the input topic's partition count at start-up
 * @param deps.readPartitionCount reads it again, after each join (partitions can be added; kafkajs then
 *   rejoins); a failure keeps the last count, with a warning
 */
export function createApiBudget(
  options: ApiBudgetOptions,
  deps: {
    apply: (share: ApiShare) => void
    partitionCount: number
    readPartitionCount?: () => Promise<number>
    logger: Logger
    metrics: Metrics
  },
) {
  let owned: readonly number[] = []
  let partitionCount = Math.max(1, deps.partitionCount)
  let current: ApiShare | undefined

  function shareNow(): ApiShare {
    if (options.scope === 'replica') {
      return { maxJobsInFlight: options.maxJobsInFlight, rateLimitPerSecond: options.rateLimitPerSecond }
    }
    return {
      maxJobsInFlight: groupShare(options.maxJobsInFlight, owned, partitionCount),
      rateLimitPerSecond:
        options.rateLimitPerSecond === 0 ? 0 : groupShare(options.rateLimitPerSecond, owned, partitionCount),
    }
  }

  function update(): void {
    const share = shareNow()
    if (
      share.maxJobsInFlight === current?.maxJobsInFlight &&
      share.rateLimitPerSecond === current.rateLimitPerSecond
    )
      return
    current = share
    deps.metrics.apiBudget.set({ limit: 'jobs_in_flight' }, share.maxJobsInFlight)
    deps.metrics.apiBudget.set({ limit: 'requests_per_second' }, share.rateLimitPerSecond)
    deps.apply(share)
    deps.logger.info(
      {
        ...share,
        scope: options.scope,
        ...(options.scope === 'group'
          ? {
              group: {
                maxJobsInFlight: options.maxJobsInFlight,
                rateLimitPerSecond: options.rateLimitPerSecond,
              },
              partitions: owned,
              partitionCount,
            }
          : {}),
      },
      options.scope === 'group' ? "API budget: this replica's share of the consumer group's" : 'API budget',
    )
  }
  update()

  function setPartitionCount(count: number): void {
    partitionCount = Math.max(1, count)
    update()
  }

  return {
    /** The input topic's partition count, read again after a rebalance (partitions can be added). */
    setPartitionCount,

    /**
     * After each join of the consumer group: the input topic's partitions this member now owns; then
     * the partition count is read again (`deps.readPartitionCount`).
     */
    assigned(partitions: readonly number[]): void {
      owned = partitions
      update()
      void deps
        .readPartitionCount?.()
        .then(setPartitionCount, (err: unknown) =>
          deps.logger.warn({ err }, 'API budget: partition count not read; keeping the last one'),
        )
    },
  }
}

export type ApiBudget = ReturnType<typeof createApiBudget>
