// JobSlots: the one count of MAX_JOBS_IN_FLIGHT: submits in flight, followed jobs, slots a webhook freed.
import { describe, expect, it } from 'vitest'
import { JobSlots } from '../../../src/jobs/job-slots.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'

async function gauge(metrics: Metrics): Promise<number | undefined> {
  return (await metrics.jobsInFlight.get()).values[0]?.value
}

function setup(maxJobsInFlight = 2) {
  const metrics = createMetrics()
  return { metrics, slots: new JobSlots({ maxJobsInFlight }, { metrics }) }
}

describe('JobSlots', () => {
  it('has a free slot until submits in flight and running jobs reach maxJobsInFlight', () => {
    // Given two slots
    const { slots } = setup(2)
    expect(slots.hasFree).toBe(true)

    // When one submit is in flight and one job is followed
    slots.submitStarted()
    slots.jobFollowed()

    // Then both slots are held
    expect(slots.submitting).toBe(1)
    expect(slots.running).toBe(1)
    expect(slots.inFlight).toBe(2)
    expect(slots.hasFree).toBe(false)

    // When the submit ends
    slots.submitEnded()
    expect(slots.submitting).toBe(0)
    expect(slots.hasFree).toBe(true)
  })

  it('an accepted submit holds two slots until its submit ends (followed before the submit ends)', () => {
    const { slots } = setup(2)
    slots.submitStarted()
    slots.jobFollowed()
    expect(slots.inFlight).toBe(2)
    slots.submitEnded()
    expect(slots.inFlight).toBe(1)
  })

  it('a webhook frees the slot of a followed job; a read that sees it running takes it back', async () => {
    // Given one slot held by a followed job
    const { slots, metrics } = setup(1)
    slots.jobFollowed()
    expect(slots.hasFree).toBe(false)
    expect(await gauge(metrics)).toBe(1)

    // When its webhook comes, the slot is free and the gauge shows no running job
    slots.freedByWebhook()
    expect(slots.hasFree).toBe(true)
    expect(slots.running).toBe(0)
    expect(await gauge(metrics)).toBe(0)

    // When a read sees it still running, it holds its slot again
    slots.takenBack()
    expect(slots.hasFree).toBe(false)
    expect(await gauge(metrics)).toBe(1)
  })

  it('a job that leaves gives its slot back, or none when its webhook had freed it', async () => {
    const { slots, metrics } = setup(3)
    slots.jobFollowed()
    slots.jobFollowed()
    slots.freedByWebhook()
    expect(slots.running).toBe(1)

    // The job whose webhook freed its slot leaves: nothing more is free
    slots.jobLeft(true)
    expect(slots.running).toBe(1)
    expect(await gauge(metrics)).toBe(1)

    // The other one leaves: its slot is free
    slots.jobLeft(false)
    expect(slots.running).toBe(0)
    expect(slots.inFlight).toBe(0)
    expect(await gauge(metrics)).toBe(0)
  })

  it('bridge_jobs_in_flight shows the running jobs, not the submits in flight', async () => {
    const { slots, metrics } = setup(5)
    slots.submitStarted()
    slots.submitStarted()
    slots.jobFollowed()
    expect(slots.inFlight).toBe(3)
    expect(await gauge(metrics)).toBe(1)
  })

  it('a changed limit keeps what is held: a lowered one has no free slot until below it', () => {
    // Given three slots, all held
    const { slots } = setup(3)
    for (let i = 0; i < 3; i++) slots.jobFollowed()
    // When the limit falls to 1, nothing is dropped, and no slot is free
    expect(slots.setLimit(1)).toBe(false)
    expect(slots.limit).toBe(1)
    expect(slots.running).toBe(3)
    slots.jobLeft(false)
    slots.jobLeft(false)
    expect(slots.hasFree).toBe(false)
    slots.jobLeft(false)
    expect(slots.hasFree).toBe(true)
    // When it rises, the caller is told to submit what may go; a limit below one is one
    expect(slots.setLimit(4)).toBe(true)
    slots.setLimit(0)
    expect(slots.limit).toBe(1)
  })
})
