// ApiGate: the holds in force after the import API refused or throttled us, per endpoint and for all.
import { describe, expect, it } from 'vitest'
import { ApiGate } from '../../../src/jobs/api-gate.ts'
import type { Hold } from '../../../src/jobs/api-hold.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { LogLines } from '../../support/log-lines.ts'

const T0 = 1_000_000

function setup() {
  const logs = new LogLines()
  const metrics = createMetrics()
  const gate = new ApiGate({
    metrics,
    logger: createLogger({ level: 'debug', destination: logs.writable() }),
  })
  const hold = async (cause: string) =>
    (await metrics.apiHold.get()).values.find((v) => v.labels.cause === cause)?.value ?? 0
  return { logs, gate, hold }
}

function refusal(cause: Hold['cause'], problem: string, setting?: string, retryInMs = 30_000): Hold {
  return { action: 'hold', cause, problem, setting, retryInMs }
}

const REFUSED_SUBMITS =
  'import API refused our credentials: check LIVINGDOCS_ACCESS_TOKEN; submits wait until it is fixed'

describe('ApiGate', () => {
  it('holds nothing at first', () => {
    const { gate } = setup()
    expect(gate.heldUntil('submit')).toBe(0)
    expect(gate.heldUntil('status')).toBe(0)
    expect(gate.isRefused('submit')).toBe(false)
    expect(gate.problem).toBeNull()
  })

  it('names every hold in force in words: a refusal, a Retry-After, the quota backoff', () => {
    const { gate } = setup()
    expect(gate.holds(T0)).toEqual([])
    gate.holdAll(T0 + 60_000)
    gate.refuse('submit', refusal('credentials', REFUSED_SUBMITS, 'LIVINGDOCS_ACCESS_TOKEN'), T0)
    gate.quota(true)
    expect(gate.holds(T0)).toEqual([
      `refused: ${REFUSED_SUBMITS} (check LIVINGDOCS_ACCESS_TOKEN)`,
      `Retry-After: every request waits until ${new Date(T0 + 60_000).toISOString()}`,
      'usage limit reached (429) or payment required (402): submits back off',
    ])
    expect(gate.holds(T0 + 60_000)).toHaveLength(2)
  })

  it('counts the holds each endpoint was put under: its refusals and every Retry-After', () => {
    const { gate } = setup()
    expect([gate.holdsOf('submit'), gate.holdsOf('status')]).toEqual([0, 0])
    gate.refuse('status', refusal('credentials', 'status answered HTTP 403'), T0)
    expect([gate.holdsOf('submit'), gate.holdsOf('status')]).toEqual([0, 1])
    gate.holdAll(T0 + 5000, T0)
    expect([gate.holdsOf('submit'), gate.holdsOf('status')]).toEqual([1, 2])
    // a Retry-After already passed holds nothing
    gate.holdAll(T0, T0)
    expect([gate.holdsOf('submit'), gate.holdsOf('status')]).toEqual([1, 2])
  })

  it('marks the holds of an endpoint: how many began, and whether one is in force', () => {
    const { gate } = setup()
    expect(gate.holdMark('status', T0)).toEqual({ begun: 0, inForce: false })
    gate.refuse('status', refusal('credentials', 'status answered HTTP 403'), T0)
    expect(gate.holdMark('status', T0)).toEqual({ begun: 1, inForce: true })
    expect(gate.holdMark('submit', T0)).toEqual({ begun: 0, inForce: false })
    gate.accepted('status')
    expect(gate.holdMark('status', T0)).toEqual({ begun: 1, inForce: false })
    // a Retry-After is in force until it has passed
    gate.holdAll(T0 + 5000, T0)
    expect(gate.holdMark('submit', T0 + 4999)).toEqual({ begun: 1, inForce: true })
    expect(gate.holdMark('status', T0 + 5000)).toEqual({ begun: 2, inForce: false })
  })

  it('a Retry-After holds every request until then, and a shorter one does not shorten it', () => {
    const { gate } = setup()
    gate.holdAll(T0 + 60_000)
    gate.holdAll(T0 + 1000)
    expect(gate.heldUntil('submit')).toBe(T0 + 60_000)
    expect(gate.heldUntil('status')).toBe(T0 + 60_000)
  })

  it('a refusal holds its endpoint only, until its re-check, names the settings and raises its gauge', async () => {
    // Given a refusal of our credentials on submits
    const { gate, hold, logs } = setup()
    gate.refuse('submit', refusal('credentials', 'submit answered HTTP 401', 'LIVINGDOCS_ACCESS_TOKEN'), T0)

    // Then submits wait for the re-check, status reads do not
    expect(gate.isRefused('submit')).toBe(true)
    expect(gate.isRefused('status')).toBe(false)
    expect(gate.heldUntil('submit')).toBe(T0 + 30_000)
    expect(gate.heldUntil('status')).toBe(0)
    expect(gate.problem).toBe('submit answered HTTP 401 (check LIVINGDOCS_ACCESS_TOKEN)')
    expect(await hold('credentials')).toBe(1)
    expect(await hold('configuration')).toBe(0)
    expect(logs.find(REFUSED_SUBMITS)).toMatchObject({ endpoint: 'submit', recheckMs: 30_000 })
  })

  it('logs a refusal once, and again only when its problem changes', () => {
    const { gate, logs } = setup()
    const first = refusal('credentials', 'submit answered HTTP 401', 'LIVINGDOCS_ACCESS_TOKEN')
    gate.refuse('submit', first, T0)
    gate.refuse('submit', first, T0 + 30_000)
    expect(logs.withMsg(REFUSED_SUBMITS)).toHaveLength(1)
    // the re-check time moved on
    expect(gate.heldUntil('submit')).toBe(T0 + 60_000)
    gate.refuse('submit', refusal('credentials', 'submit answered HTTP 403', 'LIVINGDOCS_ACCESS_TOKEN'), T0)
    expect(logs.withMsg(REFUSED_SUBMITS)).toHaveLength(2)
  })

  it('names both refusals in one line for /readyz, without a setting where none is known', () => {
    const { gate } = setup()
    gate.refuse('submit', refusal('configuration', 'submit answered HTTP 415', 'LIVINGDOCS_BASE_URL'), T0)
    gate.refuse('status', refusal('credentials', 'status answered HTTP 401'), T0)
    expect(gate.problem).toBe(
      'submit answered HTTP 415 (check LIVINGDOCS_BASE_URL); status answered HTTP 401',
    )
  })

  it('an accepted answer on the refused endpoint ends its refusal, lowers the gauge and says so once', async () => {
    const { gate, hold, logs } = setup()
    gate.refuse('status', refusal('configuration', 'status answered HTTP 404', 'LIVINGDOCS_BASE_URL'), T0)
    gate.refuse('submit', refusal('configuration', 'submit answered HTTP 404', 'LIVINGDOCS_BASE_URL'), T0)

    // When status reads are accepted again, the submits' refusal stays
    gate.accepted('status')
    expect(gate.isRefused('status')).toBe(false)
    expect(gate.heldUntil('status')).toBe(0)
    expect(gate.problem).toBe('submit answered HTTP 404 (check LIVINGDOCS_BASE_URL)')
    expect(await hold('configuration')).toBe(1)

    // When submits are accepted too, nothing is held
    gate.accepted('submit')
    gate.accepted('submit')
    expect(gate.problem).toBeNull()
    expect(await hold('configuration')).toBe(0)
    expect(logs.withMsg('import API accepts our requests again')).toHaveLength(2)
  })

  it('the quota gauge follows the usage limit, logged at each change only', async () => {
    const { gate, hold, logs } = setup()
    gate.quota(true, { err: 'HTTP 429' })
    gate.quota(true)
    expect(await hold('quota')).toBe(1)
    expect(
      logs.withMsg(
        'import API refuses submits for the account (the usage limit: 429 without Retry-After; or 402 Payment Required); submits back off',
      ),
    ).toHaveLength(1)
    gate.quota(false)
    gate.quota(false)
    expect(await hold('quota')).toBe(0)
    expect(
      logs.withMsg('import API accepts submits again after its usage limit or payment refusal'),
    ).toHaveLength(1)
    // the quota holds no endpoint: the submit queue backs off by itself
    expect(gate.heldUntil('submit')).toBe(0)
  })

  it('heed: a hold refuses the endpoint, a Retry-After holds all, a plain retry holds nothing', () => {
    const { gate } = setup()
    gate.heed('status', { action: 'retry', holdAllMs: undefined }, T0)
    expect(gate.heldUntil('submit')).toBe(0)
    gate.heed('status', { action: 'retry', holdAllMs: 5000 }, T0)
    expect(gate.heldUntil('submit')).toBe(T0 + 5000)
    expect(gate.isRefused('status')).toBe(false)
    gate.heed('status', refusal('credentials', 'status answered HTTP 401', undefined, 60_000), T0)
    expect(gate.isRefused('status')).toBe(true)
    expect(gate.heldUntil('status')).toBe(T0 + 60_000)
  })
})
