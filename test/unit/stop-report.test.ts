// The one line that ends a stop: what was done, what was abandoned, at a level that matches.
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logging.ts'
import { reportStop, type StopSummary } from '../../src/stop-report.ts'
import { LogLines } from '../support/log-lines.ts'

const clean: StopSummary = {
  filesResulted: 230,
  dlqRecords: 1,
  filesAbandoned: 0,
  jobsAbandoned: [],
  jobsDone: true,
  sendsDone: true,
  committed: [
    { topic: 'in', partition: 1, offset: '70' },
    { topic: 'in', partition: 0, offset: '84' },
  ],
}

function logged(summary: StopSummary) {
  const logs = new LogLines()
  reportStop(createLogger({ level: 'info', destination: logs.writable() }), summary)
  expect(logs.lines).toHaveLength(1)
  return logs.lines[0] as Record<string, unknown>
}

describe('reportStop', () => {
  it('says "bridge stopped" at info with the counts and the committed offsets when nothing was left', () => {
    expect(logged(clean)).toMatchObject({
      level: 30,
      msg: 'bridge stopped',
      filesResulted: 230,
      dlqRecords: 1,
      filesAbandoned: 0,
      jobsAbandoned: [],
      committed: { in: { '0': '84', '1': '70' } },
    })
  })

  it('says it at warn, naming the jobs abandoned, when the grace period ran out', () => {
    const line = logged({
      ...clean,
      jobsDone: false,
      filesAbandoned: 12,
      jobsAbandoned: ['abc1234', 'def5678'],
    })
    expect(line).toMatchObject({
      level: 40,
      jobsDone: false,
      filesAbandoned: 12,
      jobsAbandoned: ['abc1234', 'def5678'],
    })
  })

  it('says it at warn when only sends were cut short, and at error after a component crash', () => {
    expect(logged({ ...clean, sendsDone: false }).level).toBe(40)
    expect(logged({ ...clean, crashedComponent: 'consumer' })).toMatchObject({
      level: 50,
      crashedComponent: 'consumer',
    })
  })
})
