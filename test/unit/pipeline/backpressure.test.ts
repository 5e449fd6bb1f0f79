// The backpressure gate: pause at a high mark (files or bytes), resume only once both are at the low one.
import { describe, expect, it } from 'vitest'
import { BackpressureGate } from '../../../src/pipeline/backpressure.ts'

/** A gate on files alone: a byte budget no test here reaches. */
const filesOnly = (maxFilesInFlight: number, resumeRatio: number) =>
  new BackpressureGate({ maxFilesInFlight, resumeRatio, maxBytesInFlight: Number.MAX_SAFE_INTEGER })

describe('BackpressureGate', () => {
  it('pauses once at the high mark and resumes once at the low mark (hysteresis)', () => {
    // Given a gate of 10 files resuming at half
    const gate = filesOnly(10, 0.5)
    // When files in flight rise to the limit, it pauses there and only there
    expect([1, 5, 9].map((n) => gate.update(n, 0))).toEqual([null, null, null])
    expect(gate.update(10, 0)).toBe('pause')
    expect(gate.isPaused).toBe(true)
    expect(gate.update(11, 0)).toBeNull()
    // When they fall, it stays paused above the low mark and resumes at it
    expect([9, 7, 6].map((n) => gate.update(n, 0))).toEqual([null, null, null])
    expect(gate.update(5, 0)).toBe('resume')
    expect(gate.isPaused).toBe(false)
    expect(gate.update(4, 0)).toBeNull()
  })

  it.each([
    [1, 10, 10],
    [0.8, 10, 8],
    [0.01, 100, 1],
  ])('with resume ratio %f and limit %i resumes at %i files', (resumeRatio, maxFilesInFlight, resumeAt) => {
    const gate = filesOnly(maxFilesInFlight, resumeRatio)
    expect(gate.update(maxFilesInFlight, 0)).toBe('pause')
    expect(gate.update(resumeAt + 1, 0)).toBeNull()
    expect(gate.update(resumeAt, 0)).toBe('resume')
  })

  it('a limit of one file pauses on every file and resumes when it settles', () => {
    const gate = filesOnly(1, 0.5)
    expect(gate.update(1, 0)).toBe('pause')
    expect(gate.update(0, 0)).toBe('resume')
    expect(gate.update(1, 0)).toBe('pause')
  })

  it('pauses at the byte limit with few files, and resumes only once bytes and files are both low', () => {
    // Given 1,000 files or 1 MB, resuming at half of each
    const gate = new BackpressureGate({
      maxFilesInFlight: 1000,
      maxBytesInFlight: 1_000_000,
      resumeRatio: 0.5,
    })
    // When 20 files of 50 kB are in flight, the bytes pause the fetch
    expect(gate.update(19, 950_000)).toBeNull()
    expect(gate.update(20, 1_000_000)).toBe('pause')
    // Then the files' low mark alone does not resume it; the bytes' does
    expect(gate.update(11, 550_000)).toBeNull()
    expect(gate.update(10, 500_000)).toBe('resume')
    // And with the bytes low, files at their limit still pause it
    expect(gate.update(1000, 10_000)).toBe('pause')
    expect(gate.update(600, 10_000)).toBeNull()
  })

  it('takes a single record larger than the whole byte budget, and resumes once it settled', () => {
    // Given a budget of 1 MB and nothing in flight
    const gate = new BackpressureGate({
      maxFilesInFlight: 1000,
      maxBytesInFlight: 1_000_000,
      resumeRatio: 0.5,
    })
    // When one record of 5 MB was taken, the fetch pauses behind it
    expect(gate.update(1, 5_000_000)).toBe('pause')
    // Then it resumes once that record is settled: nothing waits for room that never comes
    expect(gate.update(0, 0)).toBe('resume')
  })
})
