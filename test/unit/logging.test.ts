import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logging.ts'
import { LogLines } from '../support/log-lines.ts'
import { recordSpans } from '../support/span-recorder.ts'

describe('createLogger: trace ids of the active span', () => {
  it('with traceIds, a line written in a span carries its trace_id, span_id and trace_flags; others none', () => {
    // Given a logger for a bridge whose tracing is on, and a span
    const { tracing } = recordSpans()
    const logs = new LogLines()
    const logger = createLogger({ level: 'info', destination: logs.writable(), traceIds: true })
    const span = tracing.startJob(
      { id: 'b', systemName: 's', kind: 'file', files: [], bytes: 0, closedBy: 'linger' },
      undefined,
      { resubmits: 0 },
    )
    // When lines are written inside and outside of it, one with fields of its own
    tracing.withSpan(span, () => logger.child({ jobId: 'j' }).info({ files: 2 }, 'inside'))
    logger.info('outside')
    // Then only the inside line carries the ids, beside its own fields
    const [inside, outside] = logs.lines
    expect(inside).toMatchObject({
      msg: 'inside',
      jobId: 'j',
      files: 2,
      trace_id: span?.spanContext().traceId,
      span_id: span?.spanContext().spanId,
      trace_flags: '01',
    })
    expect(outside?.trace_id).toBeUndefined()
  })

  it('without traceIds (tracing off), no line carries ids, even one written in a span', () => {
    const { tracing } = recordSpans()
    const logs = new LogLines()
    const logger = createLogger({ level: 'info', destination: logs.writable() })
    const span = tracing.startJob(
      { id: 'b', systemName: 's', kind: 'file', files: [], bytes: 0, closedBy: 'linger' },
      undefined,
      { resubmits: 0 },
    )
    tracing.withSpan(span, () => logger.info('inside'))
    expect(logs.lines[0]).not.toHaveProperty('trace_id')
    expect(logs.lines[0]).not.toHaveProperty('span_id')
  })
})
