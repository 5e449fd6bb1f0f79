// The webhook app with forwarding to other replicas (several replicas, issue 3), over a real socket.

import { request } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createWebhookApp, type ForwardedWebhook } from '../../../src/http/http-app.ts'
import { type HttpServer, listen } from '../../../src/http/http-server.ts'
import { signBatchId, verifyBatchSignature } from '../../../src/import/webhook-signature.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import { WEBHOOK_PATH } from '../../../src/model/webhook.ts'
import { silentLogger } from '../../support/log-lines.ts'

const logger = silentLogger
const SECRET = 'forwarding-secret-7d2c91'
const context = (batchId: string) => ({ batchId, signature: signBatchId(SECRET, batchId) })
const servers: HttpServer[] = []

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function forwardingServer(forwarded: boolean) {
  const metrics = createMetrics()
  const onJobWebhook = vi.fn((id: string | undefined) => id === 'mine')
  const forwardWebhook = vi.fn(async (_w: ForwardedWebhook) => forwarded)
  const app = createWebhookApp({
    logger,
    metrics,
    webhookSecret: SECRET,
    verifySignature: verifyBatchSignature,
    onJobWebhook,
    forwardWebhook,
  })
  const server = await listen(app, {
    host: '127.0.0.1',
    port: 0,
  })
  servers.push(server)
  return { metrics, onJobWebhook, forwardWebhook, url: `http://127.0.0.1:${server.port}${WEBHOOK_PATH}` }
}

async function post(url: string, body: unknown) {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.statusCode, json: (await res.body.json()) as unknown }
}

async function webhookCount(metrics: Metrics, outcome: string): Promise<number | undefined> {
  return (await metrics.webhooksReceived.get()).values.find((v) => v.labels.outcome === outcome)?.value
}

describe('webhook app with forwarding', () => {
  it('forwards a webhook of a job this replica does not track, with its state, and answers 202', async () => {
    // Given a replica that tracks only job "mine" and whose forwarding succeeds
    const { url, onJobWebhook, forwardWebhook, metrics } = await forwardingServer(true)

    // When a webhook of another job arrives
    const res = await post(url, { id: 'theirs', state: 'success', context: context('b7') })

    // Then it is forwarded with its job id, verified batch id and state, acknowledged, and counted
    expect(res).toEqual({ status: 202, json: { forwarded: true } })
    expect(onJobWebhook).toHaveBeenCalledWith('theirs', {
      batchId: 'b7',
      received: { route: WEBHOOK_PATH, traceHeaders: {} },
    })
    expect(forwardWebhook).toHaveBeenCalledWith({ jobId: 'theirs', batchId: 'b7', state: 'success' })
    expect(await webhookCount(metrics, 'forwarded')).toBe(1)
    expect(await webhookCount(metrics, 'unknown_job')).toBe(0)
  })

  it('does not forward a webhook of its own job', async () => {
    // Given a replica that tracks job "mine"
    const { url, forwardWebhook, metrics } = await forwardingServer(true)

    // When that job's webhook arrives
    const res = await post(url, { id: 'mine', state: 'success', context: context('b1') })

    // Then the replica handles it itself
    expect(res).toEqual({ status: 202, json: { accepted: true } })
    expect(forwardWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'accepted')).toBe(1)
  })

  it('answers 503 when forwarding fails, so that the sender may retry', async () => {
    // Given a replica whose forwarding fails (broker unreachable)
    const { url, forwardWebhook } = await forwardingServer(false)

    // When a webhook of another job arrives, with a state that is not a string
    const res = await post(url, { id: 'theirs', state: { odd: true }, context: context('b2') })

    // Then it answers 503 without details, and the state was passed on as null
    expect(res.status).toBe(503)
    expect(Object.keys(res.json as object)).toEqual(['error'])
    expect(forwardWebhook).toHaveBeenCalledWith({ jobId: 'theirs', batchId: 'b2', state: null })
  })

  it('never forwards a webhook that fails authentication', async () => {
    // Given a replica that forwards webhooks of other jobs
    const { url, forwardWebhook, onJobWebhook } = await forwardingServer(true)

    // When a webhook with a wrong signature arrives
    const res = await post(url, {
      id: 'theirs',
      context: { batchId: 'b3', signature: signBatchId('guess', 'b3') },
    })

    // Then it is refused before any lookup or forwarding
    expect(res.status).toBe(401)
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(forwardWebhook).not.toHaveBeenCalled()
  })
})
