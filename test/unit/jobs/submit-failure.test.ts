// decideSubmitFailure: every class of a failed submit and what it does to the batch, as a table.
import { describe, expect, it } from 'vitest'
import { ApiError, BridgeError } from '../../../src/errors.ts'
import { classifyAnswer } from '../../../src/import/api-answer.ts'
import { QUOTA_FIRST_BACKOFF_MS } from '../../../src/jobs/api-hold.ts'
import {
  decideSubmitFailure,
  type SubmitFailurePolicy,
  splitBatch,
} from '../../../src/jobs/submit-failure.ts'
import { type Batch, batchBytes } from '../../../src/model/files.ts'
import { batchOfFiles, pendingFile } from '../../support/pending-file.ts'

const policy: SubmitFailurePolicy = { resubmitDelayMs: 5000, holdRecheckMs: 30_000, maxHoldMs: 900_000 }

function batchOf(n: number): Batch {
  return batchOfFiles(Array.from({ length: n }, (_, i) => pendingFile(`f${i}`, { bytes: 100 + i })))
}

/** The error the import client raises for a final submit answer `status` (0: no answer) of `files` files. */
function answer(status: number, files: number, retryAfterMs?: number): ApiError {
  if (status === 0) {
    return new ApiError('API_NETWORK_ERROR', 'submit request failed', {
      endpoint: 'submit',
      status: 0,
      answerClass: 'retry',
    })
  }
  const reading = classifyAnswer({ endpoint: 'submit', status, text: '', retryAfterMs, files })
  if (!('code' in reading)) throw new Error(`HTTP ${status} is no error`)
  return new ApiError(
    reading.code,
    reading.message,
    { endpoint: 'submit', status, retryAfterMs, answerClass: reading.class, setting: reading.setting },
    { retryable: reading.retryable },
  )
}

describe('decideSubmitFailure', () => {
  it.each([
    // status, files, expected action, expected wait (ms) or reason
    [401, 3, 'hold', 30_000],
    [403, 3, 'hold', 30_000],
    [410, 1, 'hold', 30_000],
    [404, 3, 'hold', 30_000],
    [405, 3, 'hold', 30_000],
    [406, 1, 'hold', 30_000],
    [415, 3, 'hold', 30_000],
    [301, 3, 'hold', 30_000],
    [302, 1, 'hold', 30_000],
    [307, 3, 'hold', 30_000],
    [308, 3, 'hold', 30_000],
    [501, 3, 'hold', 30_000],
    [400, 3, 'split', undefined],
    [413, 2, 'split', undefined],
    [422, 5, 'split', undefined],
    [409, 5, 'split', undefined],
    [400, 1, 'fail', 'rejected by the import API: submit answered HTTP 400'],
    [422, 1, 'fail', 'rejected by the import API: submit answered HTTP 422'],
    [413, 1, 'fail', 'rejected by the import API: submit answered HTTP 413'],
    [0, 3, 'retry', 5000],
    [408, 3, 'retry', 5000],
    [500, 1, 'retry', 5000],
    [503, 3, 'retry', 5000],
    [200, 3, 'retry', 5000],
  ] as const)('HTTP %i for a batch of %i files -> %s', (status, files, action, detail) => {
    const batch = batchOf(files)
    const decision = decideSubmitFailure(answer(status, files), batch, policy)
    expect(decision.action).toBe(action)
    if (decision.action === 'hold' || decision.action === 'retry') expect(decision.retryInMs).toBe(detail)
    if (decision.action === 'fail') expect(decision.reason).toBe(detail)
    if (decision.action === 'split') expect(decision.parts.flatMap((p) => p.files)).toEqual(batch.files)
  })

  it('a batch-data answer for a batch that is one file by now fails that file', () => {
    expect(decideSubmitFailure(answer(422, 3), batchOf(1), policy).action).toBe('fail')
  })

  it('a hold names its cause, the problem and the settings to check', () => {
    expect(decideSubmitFailure(answer(401, 2), batchOf(2), policy)).toMatchObject({
      action: 'hold',
      cause: 'credentials',
      problem: 'submit answered HTTP 401',
      setting: 'LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE',
    })
    expect(decideSubmitFailure(answer(404, 2), batchOf(2), policy)).toMatchObject({
      action: 'hold',
      cause: 'configuration',
      setting: 'LIVINGDOCS_BASE_URL and LIVINGDOCS_API_VERSION',
    })
    expect(decideSubmitFailure(answer(401, 2), batchOf(2), { ...policy, holdRecheckMs: 500 })).toMatchObject({
      retryInMs: 500,
    })
  })

  it('a Retry-After longer than the resubmit delay holds every request and waits that long', () => {
    const decision = decideSubmitFailure(answer(429, 2, 60_000), batchOf(2), policy)
    expect(decision).toEqual({ action: 'retry', retryInMs: 60_000, holdAllMs: 60_000 })
  })

  it.each([
    ['2592000 (30 days)', 2_592_000_000],
    ['Tue, 01 Jan 2030 00:00:00 GMT', Date.parse('2030-01-01T00:00:00Z') - Date.now()],
  ])('a Retry-After of %s waits at most maxHoldMs, then asks again', (_name, retryAfterMs) => {
    const decision = decideSubmitFailure(answer(429, 2, retryAfterMs), batchOf(2), policy)
    expect(decision).toEqual({ action: 'retry', retryInMs: 900_000, holdAllMs: 900_000 })
  })

  it('a quota 429 backs off exponentially with jitter from QUOTA_FIRST_BACKOFF_MS up to maxHoldMs', () => {
    const waits = [1, 2, 3, 4, 5, 6, 10].map((streak) => {
      const d = decideSubmitFailure(answer(429, 2), batchOf(2), policy, streak, () => 1 - 1e-9)
      expect(d.action).toBe('quota')
      return d.action === 'quota' ? d.retryInMs : 0
    })
    expect(waits).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000])
    const low = decideSubmitFailure(answer(429, 2), batchOf(2), policy, 1, () => 0)
    expect(low).toEqual({ action: 'quota', retryInMs: QUOTA_FIRST_BACKOFF_MS / 2 })
    // A ceiling below the first step caps it too
    const short = decideSubmitFailure(
      answer(429, 2),
      batchOf(2),
      { ...policy, maxHoldMs: 2000 },
      3,
      () => 1 - 1e-9,
    )
    expect(short).toEqual({ action: 'quota', retryInMs: 2000 })
  })

  it('an answer without a job id, and any other error (a bug), are retried, never a FAILED result', () => {
    const noId = new ApiError(
      'API_INVALID_RESPONSE',
      'submit answered HTTP 200: an answer without a job id',
      {
        endpoint: 'submit',
        status: 200,
        answerClass: 'unreadable',
      },
    )
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
