import { describe, expect, it } from 'vitest'
import { batchTrace, parseTraceparent } from '../../../src/telemetry/trace-context.ts'

const h = (name: string, value: string) => [name, Buffer.from(value)] as const

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('parseTraceparent (W3C Trace Context §3.2)', () => {
  it('reads version 00', () => {
    expect(parseTraceparent(TP)).toEqual({
      version: '00',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: '01',
    })
  })

  it.each([
    ['upper case', TP.toUpperCase()],
    ['all-zero trace-id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero parent-id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version 00 with an extra field', `${TP}-extra`],
    ['short trace-id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['empty', ''],
    ['missing', undefined],
  ])('rejects %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeNull()
  })

  it('reads the first four fields of a later version and ignores the rest', () => {
    expect(
      parseTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever'),
    ).toMatchObject({
      version: 'cc',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    })
  })
})

describe('batchTrace', () => {
  const other = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'

  it('puts the first traced file on the request and lists every file’s traceparent', () => {
    const trace = batchTrace([
      { headers: [] },
      { headers: [h('traceparent', 'garbage'), h('tracestate', 'x=1')] },
      { headers: [h('traceparent', TP), h('tracestate', 'vendor=abc')] },
      { headers: [h('traceparent', other), h('tracestate', 'other=1')] },
      { headers: [h('traceparent', TP)] },
    ])
    expect(trace.headers).toEqual({ traceparent: TP, tracestate: 'vendor=abc' })
    expect(trace.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(trace.traceparents).toEqual([TP, other])
  })

  it('reads the first of repeated headers, as UTF-8', () => {
    const trace = batchTrace([
      { headers: [['traceparent', null], h('traceparent', TP), h('traceparent', other)] },
    ])
    expect(trace.traceparents).toEqual([])
    expect(batchTrace([{ headers: [h('traceparent', TP), h('traceparent', other)] }]).traceparents).toEqual([
      TP,
    ])
  })

  it('sends no headers for a batch without trace context, and drops an oversized tracestate', () => {
    expect(batchTrace([{}, { headers: [h('tracestate', 'a=1')] }])).toEqual({
      headers: {},
      traceId: undefined,
      traceparents: [],
    })
    expect(
      batchTrace([{ headers: [h('traceparent', TP), h('tracestate', 'a='.padEnd(600, 'x'))] }]).headers,
    ).toEqual({ traceparent: TP })
  })
})
