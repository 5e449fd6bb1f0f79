// decideSubmitFailure: every kind of failed submit and what it does to the batch, as a table.
import { describe, expect, it } from 'vitest'
import { type ApiEndpoint, ApiError, BridgeError, type ErrorCode } from '../../../src/errors.ts'
import { classifyStatus } from '../../../src/import/import-client.ts'
import { decideSubmitFailure, REFUSED_RECHECK_MS, splitBatch } from '../../../src/jobs/submit-failure.ts'
import { type Batch, batchBytes } from '../../../src/pipeline/types.ts'
import { pendingFile } from '../../support/pending-file.ts'

const policy = { resubmitDelayMs: 5000 }

function batchOf(n: number): Batch {
  const files = Array.from({ length: n }, (_, i) => pendingFile(`f${i}`, { bytes: 100 + i }))
  return { id: 'b1', systemName: 'archive', kind: 'file', files, bytes: batchBytes(files), reason: 'linger' }
}

/** The error the import client gives for a final answer `status` (0: no answer). */
function answer(status: number, retryAfterMs?: number, endpoint: ApiEndpoint = 'submit'): ApiError {
  const { code, retryable } =
    status === 0 ? { code: 'API_NETWORK_ERROR' as ErrorCode, retryable: true } : classifyStatus(status)
  return new ApiError(
    code,
    `${endpoint} answered HTTP ${status}`,
    { endpoint, status, retryAfterMs },
    { retryable },
  )
}

describe('decideSubmitFailure', () => {
  it.each([
    // status, files, expected action, expected wait (ms) or reason
    [401, 3, 'hold', REFUSED_RECHECK_MS],
    [403, 3, 'hold', REFUSED_RECHECK_MS],
    [410, 1, 'hold', REFUSED_RECHECK_MS],
    [400, 3, 'split', undefined],
    [413, 2, 'split', undefined],
    [422, 5, 'split', undefined],
    [404, 3, 'split', undefined],
    [400, 1, 'fail', 'rejected by the import API: submit answered HTTP 400'],
    [422, 1, 'fail', 'rejected by the import API: submit answered HTTP 422'],
    [0, 3, 'retry', 5000],
    [408, 3, 'retry', 5000],
    [429, 3, 'retry', 5000],
    [500, 1, 'retry', 5000],
    [503, 3, 'retry', 5000],
  ] as const)('HTTP %i for a batch of %i files -> %s', (status, files, action, detail) => {
    const batch = batchOf(files)
    const decision = decideSubmitFailure(answer(status), batch, policy)
    expect(decision.action).toBe(action)
    if (decision.action === 'hold' || decision.action === 'retry') expect(decision.retryInMs).toBe(detail)
    if (decision.action === 'fail') expect(decision.reason).toBe(detail)
    if (decision.action === 'split') expect(decision.parts.flatMap((p) => p.files)).toEqual(batch.files)
  })

  it('a Retry-After longer than the resubmit delay holds every request and waits that long', () => {
    const decision = decideSubmitFailure(answer(429, 60_000), batchOf(2), policy)
    expect(decision).toEqual({ action: 'retry', retryInMs: 60_000, holdAllMs: 60_000 })
  })

  it('a refused configuration waits at least the resubmit delay when it is longer than the re-check', () => {
    const decision = decideSubmitFailure(answer(401), batchOf(2), { resubmitDelayMs: 90_000 })
    expect(decision).toMatchObject({ action: 'hold', retryInMs: 90_000, problem: 'submit answered HTTP 401' })
  })

  it('an answer without a job id, and any other error (a bug), are retried, never a FAILED result', () => {
    const noId = new ApiError('API_INVALID_RESPONSE', 'submit answered without a job id', {
      endpoint: 'submit',
      status: 200,
    })
    expect(decideSubmitFailure(noId, batchOf(2), policy).action).toBe('retry')
    expect(decideSubmitFailure(new TypeError('x is undefined'), batchOf(2), policy).action).toBe('retry')
    expect(decideSubmitFailure(new BridgeError('CONFIG_INVALID', 'x'), batchOf(1), policy).action).toBe(
      'retry',
    )
  })
})

describe('splitBatch', () => {
  it('halves a batch (the first half larger), keeps the order and recounts the bytes', () => {
    const batch = batchOf(5)
    const [a, b] = splitBatch(batch)
    expect(a.files.map((f) => f.event.externalId)).toEqual(['f0', 'f1', 'f2'])
    expect(b.files.map((f) => f.event.externalId)).toEqual(['f3', 'f4'])
    expect([a.id, b.id]).toEqual(['b1.1', 'b1.2'])
    expect(a.bytes + b.bytes).toBe(batch.bytes + batchBytes([]))
  })

  it('refuses a batch of one file', () => {
    expect(() => splitBatch(batchOf(1))).toThrow(/cannot be split/)
  })
})
