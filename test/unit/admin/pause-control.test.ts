import { describe, expect, it, vi } from 'vitest'
import { bearerMatches } from '../../../src/admin/admin-token.ts'
import { PauseControl } from '../../../src/admin/pause-control.ts'
import type { OutgoingMessage } from '../../../src/kafka/producer.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { FetchSwitch } from '../../../src/pipeline/fetch-switch.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { registryMetric } from '../../support/metric-value.ts'

/** A control whose sends come back as records of the topic at once (a broker in one line). */
function control(groupId = 'group-a') {
  const metrics = createMetrics()
  const registry = metrics.registry
  const apply = vi.fn()
  const sent: OutgoingMessage[] = []
  let offset = 0
  const pc: PauseControl = new PauseControl(
    { topic: 'control', groupId, instance: 'host-a' },
    {
      send: async (_topic, messages) => {
        sent.push(...messages)
        for (const m of messages)
          setImmediate(() => pc.onRecord(recordOf(m.key as string, m.value, offset++)))
      },
      apply,
      logger: silentLogger,
      gauges: metrics,
    },
  )
  return { pc, apply, sent, registry }
}

function recordOf(key: string, value: Buffer | null, offset = 0) {
  return {
    topic: 'control',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(key),
    value,
    headers: [],
    timestamp: 0,
  }
}

describe('PauseControl', () => {
  it('publishes a pause keyed by the group, applies it once read back, and shows it in bridge_paused', async () => {
    const { pc, apply, sent, registry } = control()
    const state = await pc.request(true, 'Livingdocs upgrade')
    expect(state).toMatchObject({ paused: true, reason: 'Livingdocs upgrade', by: 'host-a' })
    expect(sent[0]?.key).toBe('group-a')
    expect(apply.mock.calls).toEqual([[true]])
    expect(await registryMetric(registry, 'bridge_paused')).toBe(1)
    expect(await registryMetric(registry, 'bridge_paused_since_seconds')).toBe(Math.floor(state.at / 1000))
    await pc.request(false, 'done')
    expect(apply.mock.calls).toEqual([[true], [false]])
    expect(await registryMetric(registry, 'bridge_paused')).toBe(0)
  })

  it('ignores records of other groups and values that are no pause state', () => {
    const { pc, apply } = control()
    const value = Buffer.from(JSON.stringify({ paused: true, reason: 'r', at: 1, by: 'x' }))
    pc.onRecord(recordOf('group-b', value))
    pc.onRecord(recordOf('group-a', Buffer.from('{"paused":"yes"}')))
    pc.onRecord(recordOf('group-a', null))
    expect(apply).not.toHaveBeenCalled()
    expect(pc.state.paused).toBe(false)
    pc.onRecord(recordOf('group-a', value))
    expect(apply.mock.calls).toEqual([[true]])
    // The same state again (a replay of the compacted topic) applies nothing more.
    pc.onRecord(recordOf('group-a', value))
    expect(apply).toHaveBeenCalledTimes(1)
  })

  it('fails a request whose record is not read back in time', async () => {
    const pc = new PauseControl(
      { topic: 'control', groupId: 'g', instance: 'h' },
      { send: async () => undefined, apply: () => undefined, logger: silentLogger, gauges: createMetrics() },
    )
    await expect(pc.request(true, 'r', 20)).rejects.toThrow(/not read back/)
  })
})

describe('FetchSwitch', () => {
  it('resumes only when neither the intake nor the operator holds the fetch', () => {
    const fetch = { pause: vi.fn(), resume: vi.fn() }
    const sw = new FetchSwitch(fetch)
    const intake = sw.control('intake')
    sw.set('operator', true)
    intake.pause()
    intake.resume()
    expect(fetch.resume).not.toHaveBeenCalled()
    sw.set('operator', false)
    expect(fetch.resume).toHaveBeenCalledTimes(1)
    intake.pause()
    sw.set('operator', true)
    sw.set('operator', false)
    expect(fetch.resume).toHaveBeenCalledTimes(1)
    intake.resume()
    expect(fetch.resume).toHaveBeenCalledTimes(2)
  })
})

describe('bearerMatches', () => {
  const token = 'a-token-of-20-chars!'
  it('accepts exactly the bearer token, scheme case-insensitive', () => {
    expect(bearerMatches(token, `Bearer ${token}`)).toBe(true)
    expect(bearerMatches(token, `bearer ${token}`)).toBe(true)
  })
  it('refuses a missing, empty, other-scheme, shorter, longer or different token', () => {
    for (const header of [
      undefined,
      '',
      'Bearer ',
      `Basic ${token}`,
      `Bearer ${token.slice(1)}`,
      `Bearer ${token}x`,
      token,
    ])
      expect(bearerMatches(token, header)).toBe(false)
  })
})
