// The slow mode's capacity (Little's law): what MAX_JOBS_IN_FLIGHT jobs of a given duration allow,
// capped by the tighter rate limit at two requests per job.

import { describe, expect, it } from 'vitest'
import { REQUESTS_PER_JOB, slowCapacity } from '../../../scripts/bench/modes.ts'

describe('slowCapacity', () => {
  it('is jobs × files per job ÷ job time without a rate limit', () => {
    // 4 jobs of 100 files, 2 s each: 200 files/s
    expect(slowCapacity(4, 100, 2000, [0, 0])).toBe(200)
    expect(slowCapacity(1, 50, 500, [])).toBe(100)
  })

  it('is capped by the lower rate limit at two requests per job', () => {
    expect(REQUESTS_PER_JOB).toBe(2)
    // 16 jobs allow 800 files/s; 10 requests/s carry 5 jobs/s = 500 files/s
    expect(slowCapacity(16, 100, 2000, [10, 0])).toBe(500)
    expect(slowCapacity(16, 100, 2000, [10, 4])).toBe(200)
    // Below the cap the jobs bound it
    expect(slowCapacity(8, 100, 2000, [10])).toBe(400)
  })
})
