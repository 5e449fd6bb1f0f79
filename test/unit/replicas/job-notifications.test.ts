// JobNotifications: publishing forwarded webhooks and acting on those of this replica's jobs.

import { describe, expect, it, vi } from 'vitest'
import type { OutgoingMessage } from '../../../src/kafka/producer.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import type { ConsumedRecord } from '../../../src/pipeline/types.ts'
import { type JobNotification, JobNotifications } from '../../../src/replicas/job-notifications.ts'
import { silentLogger } from '../../support/log-lines.ts'

const logger = silentLogger

function setup(
  send: (topic: string, messages: OutgoingMessage[]) => Promise<void> = async () => undefined,
  owned: string[] = ['job-a'],
) {
  const metrics = createMetrics()
  const sendSpy = vi.fn(send)
  const notify = vi.fn((id: string | null, _batchId: string) => id !== null && owned.includes(id))
  const notifications = new JobNotifications(
    { topic: 'notes', instanceId: 'replica-1', forwardTimeoutMs: 200 },
    { send: sendSpy, notify, metrics, logger },
  )
  return { metrics, send: sendSpy, notify, notifications }
}

function record(value: unknown, raw?: string): ConsumedRecord {
  return {
    topic: 'notes',
    partition: 0,
    offset: '7',
    key: null,
    value: Buffer.from(raw ?? JSON.stringify(value)),
    headers: [],
    timestamp: 0,
  }
}

async function count(metrics: Metrics, direction: string) {
  return (await metrics.jobNotifications.get()).values.find((v) => v.labels.direction === direction)?.value
}

describe('JobNotifications', () => {
  it('forwards a webhook as a JSON record keyed by job id and counts it', async () => {
    // Given a notifications component whose send succeeds
    const { notifications, send, metrics } = setup()
    const before = Date.now()

    // When a webhook is forwarded
    const ok = await notifications.forward({ jobId: 'job-x', batchId: 'b-x', state: 'success' })

    // Then one record is published on the topic, keyed by the job id, with the webhook's facts
    expect(ok).toBe(true)
    expect(send).toHaveBeenCalledTimes(1)
    const [topic, messages] = send.mock.calls[0] as [string, OutgoingMessage[]]
    expect(topic).toBe('notes')
    expect(messages).toHaveLength(1)
    expect(messages[0]?.key).toBe('job-x')
    const body = JSON.parse(String(messages[0]?.value)) as JobNotification
    expect(body).toMatchObject({ jobId: 'job-x', batchId: 'b-x', state: 'success', from: 'replica-1' })
    expect(body.receivedAt).toBeGreaterThanOrEqual(before)
    expect(await count(metrics, 'forwarded')).toBe(1)
  })

  it('reports a failed send as not forwarded and counts the failure', async () => {
    // Given a send that fails
    const { notifications, metrics } = setup(async () => {
      throw new Error('broker down')
    })

    // When a webhook is forwarded
    const ok = await notifications.forward({ jobId: 'job-x', batchId: 'b-x', state: null })

    // Then it is not forwarded, and counted as a failure
    expect(ok).toBe(false)
    expect(await count(metrics, 'forwarded')).toBe(0)
    expect((await metrics.jobNotificationForwardFailures.get()).values[0]?.value).toBe(1)
  })

  it('gives up waiting after forwardTimeoutMs when the broker does not acknowledge', async () => {
    // Given a send that never completes
    const { notifications, metrics } = setup(() => new Promise(() => undefined))

    // When a webhook is forwarded
    const ok = await notifications.forward({ jobId: 'job-x', batchId: 'b-x', state: 'success' })

    // Then the caller gets false (the webhook is answered 503) instead of hanging
    expect(ok).toBe(false)
    expect((await metrics.jobNotificationForwardFailures.get()).values[0]?.value).toBe(1)
  })

  it('asks the tracker to read the status of its own job, and counts it received', async () => {
    // Given a replica that tracks job-a
    const { notifications, notify, metrics } = setup()

    // When another replica's notification for job-a is read
    notifications.onRecord(
      record({ jobId: 'job-a', batchId: 'b-a', state: 'success', receivedAt: 1, from: 'replica-2' }),
    )

    // Then the tracker is notified with the job's batch id, and it counts as received
    expect(notify).toHaveBeenCalledWith('job-a', 'b-a')
    expect(await count(metrics, 'received')).toBe(1)
  })

  it('ignores notifications for jobs it does not track, and never forwards them again', async () => {
    // Given a replica that tracks job-a only
    const { notifications, notify, send, metrics } = setup()

    // When a notification for job-b is read
    notifications.onRecord(
      record({ jobId: 'job-b', batchId: 'b-b', state: 'success', receivedAt: 1, from: 'replica-2' }),
    )

    // Then nothing is counted as received and nothing is published
    expect(notify).toHaveBeenCalledWith('job-b', 'b-b')
    expect(await count(metrics, 'received')).toBe(0)
    expect(send).not.toHaveBeenCalled()
  })

  it('forwards a webhook that named no job keyed by its batch, and hands the owner the batch', async () => {
    // Given a notifications component whose send succeeds
    const { notifications, send, notify } = setup()

    // When a webhook of batch b-y without a job id is forwarded
    expect(await notifications.forward({ jobId: null, batchId: 'b-y', state: null })).toBe(true)

    // Then its record is keyed by the batch id and carries jobId null
    const [, messages] = send.mock.calls[0] as [string, OutgoingMessage[]]
    expect(messages[0]?.key).toBe('b-y')
    const body = JSON.parse(String(messages[0]?.value)) as JobNotification
    expect(body).toMatchObject({ jobId: null, batchId: 'b-y' })

    // And read back by another replica, the tracker is asked about the batch without a job id
    notifications.onRecord(record({ ...body, from: 'replica-2' }))
    expect(notify).toHaveBeenCalledWith(null, 'b-y')
  })

  it('skips its own notifications when they are read back', () => {
    // Given a replica
    const { notifications, notify } = setup()

    // When its own notification is read back from the topic
    notifications.onRecord(
      record({ jobId: 'job-a', batchId: 'b-a', state: 'success', receivedAt: 1, from: 'replica-1' }),
    )

    // Then the tracker is not asked again (it was asked when the webhook arrived)
    expect(notify).not.toHaveBeenCalled()
  })

  it.each([
    ['not JSON', undefined, '{"jobId":'],
    ['a JSON array', [1, 2], undefined],
    ['missing jobId', { batchId: 'b', state: 'success', receivedAt: 1, from: 'r' }, undefined],
    ['missing batchId', { jobId: 'job-a', state: 'success', receivedAt: 1, from: 'r' }, undefined],
    [
      'a numeric receivedAt as string',
      { jobId: 'job-a', batchId: 'b', state: null, receivedAt: '1', from: 'r' },
      undefined,
    ],
  ])('skips a malformed record (%s) without throwing', (_name, value, raw) => {
    // Given a replica
    const { notifications, notify } = setup()

    // When a malformed record is read
    expect(() => notifications.onRecord(record(value, raw))).not.toThrow()

    // Then the tracker is not asked
    expect(notify).not.toHaveBeenCalled()
  })
})
