// Lifecycle: start in order, stop in reverse within the grace period, roll back a failed start.
import { describe, expect, it } from 'vitest'
import { Lifecycle } from '../../src/lifecycle.ts'
import { createLogger } from '../../src/logging.ts'
import { LogLines } from '../support/log-lines.ts'

function recorder() {
  const calls: string[] = []
  const logs = new LogLines()
  const life = new Lifecycle({ logger: createLogger({ level: 'info', destination: logs.writable() }) })
  const step = (name: string, options: { failStart?: boolean; failStop?: boolean } = {}) => ({
    start: async () => {
      calls.push(`start ${name}`)
      if (options.failStart) throw new Error(`${name} cannot start`)
    },
    stop: async (leftMs: number) => {
      calls.push(`stop ${name} ${leftMs > 0 ? 'in time' : 'late'}`)
      if (options.failStop) throw new Error(`${name} cannot stop`)
    },
  })
  return { calls, logs, life, step }
}

describe('Lifecycle', () => {
  it('starts in order and stops in reverse', async () => {
    const { calls, life, step } = recorder()
    life
      .add('a', step('a'))
      .add('b', step('b'))
      .add('c', { stop: () => void calls.push('stop c') })
    await life.start()
    await life.stop(10_000)
    expect(calls).toEqual(['start a', 'start b', 'stop c', 'stop b in time', 'stop a in time'])
  })

  it('stops what started, in reverse, when a step fails to start, and rethrows', async () => {
    const { calls, life, step } = recorder()
    life
      .add('a', step('a'))
      .add('b', step('b', { failStart: true }))
      .add('c', step('c'))
    await expect(life.start()).rejects.toThrow('b cannot start')
    // The failed step may hold half-open resources: it is stopped too; the one after it never started
    expect(calls).toEqual(['start a', 'start b', 'stop b late', 'stop a late'])
  })

  it('logs a step that fails to stop and goes on; stop never throws', async () => {
    const { calls, logs, life, step } = recorder()
    life.add('a', step('a')).add('b', step('b', { failStop: true }))
    await life.start()
    await expect(life.stop(1000)).resolves.toBeUndefined()
    expect(calls.slice(-2)).toEqual(['stop b in time', 'stop a in time'])
    expect(logs.find('shutdown step failed')).toMatchObject({ step: 'b', err: { message: 'b cannot stop' } })
  })

  it('gives each stop the ms left of the grace period, 0 once it is spent', async () => {
    const left: number[] = []
    const life = new Lifecycle({ logger: createLogger({ level: 'silent' }) })
    life
      .add('last', { stop: (ms) => void left.push(ms) })
      .add('slow', { stop: () => new Promise((r) => setTimeout(r, 80)) })
      .add('first', { stop: (ms) => void left.push(ms) })
    await life.start()
    await life.stop(50)
    expect(left[0]).toBeGreaterThan(0)
    expect(left[0]).toBeLessThanOrEqual(50)
    expect(left[1]).toBe(0)
  })

  it('is once-only: a second start or stop shares the first; stop waits for a start in progress', async () => {
    const { calls, life, step } = recorder()
    life.add('a', step('a'))
    const starting = life.start()
    const stopping = life.stop(1000)
    expect(life.start()).toBe(starting)
    expect(life.stop(1000)).toBe(stopping)
    await stopping
    expect(calls).toEqual(['start a', 'stop a in time'])
    expect(() => life.add('late', {})).toThrow(/after start/)
  })
})
