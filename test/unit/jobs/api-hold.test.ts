// api-hold: what a refused or throttled answer of the import API means for the next request, as tables.
import { describe, expect, it } from 'vitest'
import { type AnswerClass, ApiError, BridgeError } from '../../../src/errors.ts'
import {
  boundedRetryAfterMs,
  decideStatusFailure,
  holdFor,
  QUOTA_FIRST_BACKOFF_MS,
  quotaBackoffMs,
} from '../../../src/jobs/api-hold.ts'

const policy = { holdRecheckMs: 30_000, maxHoldMs: 900_000 }

/** The error the import client raises for a status answer of `answerClass`. */
const err = (answerClass: AnswerClass, retryAfterMs?: number) =>
  new ApiError('API_UNAUTHORIZED', `status answered (${answerClass})`, {
    endpoint: 'status',
    status: 401,
    answerClass,
    retryAfterMs,
    setting: 'THE_SETTING',
  })

describe('holdFor', () => {
  it.each<[AnswerClass, boolean]>([
    ['credentials', true],
    ['configuration', true],
    ['retry', false],
    ['unreadable', false],
    ['quota', false],
    ['batch-data', false],
    ['file-data', false],
  ])('%s -> hold: %s', (answerClass, holds) => {
    expect(holdFor(err(answerClass), policy) !== undefined).toBe(holds)
  })

  it('names the cause, the problem and the setting, and re-checks after holdRecheckMs', () => {
    expect(holdFor(err('configuration'), { holdRecheckMs: 500 })).toEqual({
      action: 'hold',
      cause: 'configuration',
      problem: 'status answered (configuration)',
      setting: 'THE_SETTING',
      retryInMs: 500,
    })
  })

  it('never holds for an error that is no answer of the API (a bug, a config error)', () => {
    expect(holdFor(new TypeError('x is undefined'), policy)).toBeUndefined()
    expect(holdFor(new BridgeError('CONFIG_INVALID', 'x'), policy)).toBeUndefined()
  })
})

describe('boundedRetryAfterMs', () => {
  it.each([
    ['no Retry-After', undefined, undefined],
    ['a short one', 2000, 2000],
    ['one of exactly maxHoldMs', 900_000, 900_000],
    ['one of 30 days', 2_592_000_000, 900_000],
  ])('%s -> %s', (_name, retryAfterMs, expected) => {
    expect(boundedRetryAfterMs(err('retry', retryAfterMs), policy)).toBe(expected)
  })

  it('is undefined for an error that is no answer of the API', () => {
    expect(boundedRetryAfterMs(new Error('bug'), policy)).toBeUndefined()
  })
})

describe('quotaBackoffMs', () => {
  it('doubles from QUOTA_FIRST_BACKOFF_MS per quota answer in a row, up to maxHoldMs', () => {
    const top = () => 1 - 1e-9
    expect([1, 2, 3, 4, 5, 10].map((streak) => quotaBackoffMs(streak, policy, top))).toEqual([
      60_000, 120_000, 240_000, 480_000, 900_000, 900_000,
    ])
  })

  it('waits at least half its step (equal jitter), and a streak below 1 counts as the first', () => {
    expect(quotaBackoffMs(1, policy, () => 0)).toBe(QUOTA_FIRST_BACKOFF_MS / 2)
    expect(quotaBackoffMs(0, policy, () => 0)).toBe(QUOTA_FIRST_BACKOFF_MS / 2)
  })

  it('a ceiling below the first step caps that step too', () => {
    expect(quotaBackoffMs(1, { maxHoldMs: 2000 }, () => 1 - 1e-9)).toBe(2000)
  })
})

describe('decideStatusFailure', () => {
  it.each([
    ['credentials', 'hold'],
    ['configuration', 'hold'],
    ['retry', 'retry'],
    ['unreadable', 'retry'],
  ] as const)('%s -> %s', (answerClass, action) => {
    expect(decideStatusFailure(err(answerClass), policy).action).toBe(action)
  })

  it('a hold re-checks after holdRecheckMs and names the setting; a Retry-After is bounded by maxHoldMs', () => {
    expect(decideStatusFailure(err('credentials'), policy)).toEqual({
      action: 'hold',
      cause: 'credentials',
      problem: 'status answered (credentials)',
      setting: 'THE_SETTING',
      retryInMs: 30_000,
    })
    expect(decideStatusFailure(err('retry', 2_592_000_000), policy)).toEqual({
      action: 'retry',
      holdAllMs: 900_000,
    })
    expect(decideStatusFailure(new Error('bug'), policy)).toEqual({ action: 'retry', holdAllMs: undefined })
  })
})
