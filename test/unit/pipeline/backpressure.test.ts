// The backpressure gate: pause at the high mark, resume only at the low one.
import { describe, expect, it } from 'vitest'
import { BackpressureGate } from '../../../src/pipeline/backpressure.ts'

describe('BackpressureGate', () => {
  it('pauses once at the high mark and resumes once at the low mark (hysteresis)', () => {
    // Given a gate of 10 files resuming at half
    const gate = new BackpressureGate({ maxFilesInFlight: 10, resumeRatio: 0.5 })
    // When files in flight rise to the limit, it pauses there and only there
    expect([1, 5, 9].map((n) => gate.update(n))).toEqual([null, null, null])
    expect(gate.update(10)).toBe('pause')
    expect(gate.isPaused).toBe(true)
    expect(gate.update(11)).toBeNull()
    // When they fall, it stays paused above the low mark and resumes at it
    expect([9, 7, 6].map((n) => gate.update(n))).toEqual([null, null, null])
    expect(gate.update(5)).toBe('resume')
    expect(gate.isPaused).toBe(false)
    expect(gate.update(4)).toBeNull()
  })

  it.each([
    [1, 10, 10],
    [0.8, 10, 8],
    [0.01, 100, 1],
  ])('with resume ratio %f and limit %i resumes at %i files', (resumeRatio, maxFilesInFlight, resumeAt) => {
    const gate = new BackpressureGate({ maxFilesInFlight, resumeRatio })
    expect(gate.update(maxFilesInFlight)).toBe('pause')
    expect(gate.update(resumeAt + 1)).toBe(resumeAt + 1 <= maxFilesInFlight * resumeRatio ? 'resume' : null)
    if (gate.isPaused) expect(gate.update(resumeAt)).toBe('resume')
  })

  it('a limit of one file pauses on every file and resumes when it settles', () => {
    const gate = new BackpressureGate({ maxFilesInFlight: 1, resumeRatio: 0.5 })
    expect(gate.update(1)).toBe('pause')
    expect(gate.update(0)).toBe('resume')
    expect(gate.update(1)).toBe('pause')
  })
})
