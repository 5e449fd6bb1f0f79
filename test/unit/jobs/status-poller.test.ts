// createStatusPoller: which jobs are read when, on fake time, with the holds of the API gate as plain values.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createStatusPoller } from '../../../src/jobs/status-poller.ts'

interface Job {
  id: string
  askedAt: number
}

function setup(intervalMs = 1000) {
  const jobs: Job[] = []
  const reads: string[] = []
  const gate = { heldUntil: 0, isRefused: false }
  const poller = createStatusPoller<Job>(
    { intervalMs },
    {
      jobs: () => jobs,
      askedAt: (job) => job.askedAt,
      // A read starts now: the job was asked about now (as the tracker's reads do).
      read: (job) => {
        reads.push(job.id)
        job.askedAt = Date.now()
      },
      heldUntil: () => gate.heldUntil,
      isRefused: () => gate.isRefused,
    },
  )
  pollers.push(poller)
  return { jobs, reads, gate, poller }
}

const pollers: Array<{ stop(): void }> = []

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})
afterEach(() => {
  for (const p of pollers.splice(0)) p.stop()
  vi.useRealTimers()
})

describe('createStatusPoller', () => {
  it('reads nothing before start()', async () => {
    const s = setup()
    s.jobs.push({ id: 'j1', askedAt: 0 })
    await vi.advanceTimersByTimeAsync(5000)
    expect(s.reads).toEqual([])
  })

  it('reads a job once intervalMs passed since it was last asked about, then every intervalMs', async () => {
    // Given a job asked about at 0, polled every second
    const s = setup(1000)
    s.jobs.push({ id: 'j1', askedAt: 0 })
    s.poller.start()

    // Then it is not read before 1 s, read at 1 s, and again at 2 s
    await vi.advanceTimersByTimeAsync(999)
    expect(s.reads).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(s.reads).toEqual(['j1'])
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.reads).toEqual(['j1', 'j1'])
  })

  it('reads every job that is due, and a job asked about since later (a webhook put off its poll)', async () => {
    const s = setup(1000)
    const j1: Job = { id: 'j1', askedAt: 0 }
    s.jobs.push(j1, { id: 'j2', askedAt: 0 })
    s.poller.start()
    await vi.advanceTimersByTimeAsync(600)
    // j1's webhook made the tracker read it at 600 ms
    j1.askedAt = 600
    await vi.advanceTimersByTimeAsync(400)
    expect(s.reads).toEqual(['j2'])
    // the poller looks every 200 ms: j1 is read at 1.6 s, a second after it was asked about
    await vi.advanceTimersByTimeAsync(599)
    expect(s.reads).toEqual(['j2'])
    await vi.advanceTimersByTimeAsync(1)
    expect(s.reads).toEqual(['j2', 'j1'])
  })

  it('reads nothing while the API holds every request, then all jobs that are due', async () => {
    const s = setup(1000)
    s.jobs.push({ id: 'j1', askedAt: 0 }, { id: 'j2', askedAt: 0 })
    s.gate.heldUntil = 60_000
    s.poller.start()
    await vi.advanceTimersByTimeAsync(59_999)
    expect(s.reads).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(s.reads).toEqual(['j1', 'j2'])
  })

  it('while the API refuses status reads, reads the first job alone, once per intervalMs', async () => {
    // Given two jobs due and refused status reads
    const s = setup(1000)
    s.jobs.push({ id: 'j1', askedAt: 0 }, { id: 'j2', askedAt: 0 })
    s.gate.isRefused = true
    s.poller.start()

    // Then one probe goes at the first look, and the next one interval later, never the second job
    await vi.advanceTimersByTimeAsync(200)
    expect(s.reads).toEqual(['j1'])
    await vi.advanceTimersByTimeAsync(999)
    expect(s.reads).toEqual(['j1'])
    await vi.advanceTimersByTimeAsync(1)
    expect(s.reads).toEqual(['j1', 'j1'])

    // When the refusal ends, every due job is read again
    s.gate.isRefused = false
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.reads.slice(2).sort()).toEqual(['j1', 'j2'])
  })

  it('probes nothing while refused without jobs', async () => {
    const s = setup(1000)
    s.gate.isRefused = true
    s.poller.start()
    await vi.advanceTimersByTimeAsync(3000)
    expect(s.reads).toEqual([])
  })

  it('stop() stops the reads; start() twice arms one timer', async () => {
    const s = setup(1000)
    s.jobs.push({ id: 'j1', askedAt: 0 })
    s.poller.start()
    s.poller.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.reads).toEqual(['j1'])
    s.poller.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(s.reads).toEqual(['j1'])
  })
})
