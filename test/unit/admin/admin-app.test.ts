// The admin API over real sockets: the token, the lookups and pause/resume, and no routes without a token.

import { request } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAdminRouter } from '../../../src/admin/admin-app.ts'
import type { AdminSources, FollowedJob } from '../../../src/admin/admin-views.ts'
import type { PauseState } from '../../../src/admin/pause-control.ts'
import { createOpsApp } from '../../../src/http/http-app.ts'
import { type HttpServer, listen } from '../../../src/http/http-server.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { Batch } from '../../../src/model/files.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { batchOfFiles, pendingFile } from '../../support/pending-file.ts'

const TOKEN = 'unit-admin-token-7c2e9a41'
const servers: HttpServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

/** An ops server with the admin API over a queued batch, a job and an open batch; pauses recorded. */
async function adminServer(options: { admin?: boolean } = {}) {
  const now = Date.now()
  const batch = (id: string, ids: string[]): Batch => ({
    ...batchOfFiles(ids.map((x) => pendingFile(x))),
    id,
  })
  const queued = batch('b-queued', ['q1', 'q2'])
  const inJob = batch('b-job', ['j1'])
  const job: FollowedJob = {
    id: 'job-1',
    batch: inJob,
    submittedAt: now - 90_000,
    resubmits: 1,
    isReading: false,
    doneByWebhook: false,
    lastGoodAt: now - 1000,
    countedMs: 80_000,
  }
  const open = [pendingFile('o1')]
  let pause: PauseState = { paused: false, reason: '', at: 0, by: '' }
  const requestPause = vi.fn(async (paused: boolean, reason: string) => {
    pause = { paused, reason, at: Date.now(), by: 'host-a' }
    return pause
  })
  const sources: AdminSources = {
    partitions: () => [0, 2],
    holds: () => [],
    inFlight: () => ({ files: 4, bytes: 2000, oldestAt: now - 5000 }),
    parkedOf: () => [],
    openFilesOf: (_s, id) => open.filter((f) => f.event.externalId === id),
    jobs: () => ({ queued: [queued], jobs: [job] }),
    pause: () => pause,
  }
  const router = createAdminRouter({ sources, token: TOKEN, request: requestPause, logger: silentLogger })
  const app = createOpsApp({
    metrics: createMetrics(),
    readiness: () => [],
    logger: silentLogger,
    ...(options.admin === false ? {} : { admin: router }),
  })
  const server = await listen(app, { host: '127.0.0.1', port: 0 })
  servers.push(server)
  const base = `http://127.0.0.1:${server.port}`
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    init: { token?: string; body?: unknown } = {},
  ) => {
    const res = await request(`${base}${path}`, {
      method,
      headers: {
        ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
    const text = await res.body.text()
    return { status: res.statusCode, json: text.startsWith('{') ? JSON.parse(text) : undefined, text }
  }
  return { call, requestPause, pause: () => pause }
}

describe('the admin API on the operations port', () => {
  it('answers 401 and changes nothing without the token or with a wrong one', async () => {
    const { call, requestPause, pause } = await adminServer()
    for (const token of [undefined, 'wrong-token-of-any-length', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      expect((await call('GET', '/admin/status', token === undefined ? {} : { token })).status).toBe(401)
      const res = await call('POST', '/admin/pause', {
        ...(token === undefined ? {} : { token }),
        body: { reason: 'x' },
      })
      expect(res.status).toBe(401)
    }
    expect(requestPause).not.toHaveBeenCalled()
    expect(pause().paused).toBe(false)
  })

  it('has no admin routes without a configured token', async () => {
    const { call } = await adminServer({ admin: false })
    expect((await call('GET', '/admin/status', { token: TOKEN })).status).toBe(404)
    expect((await call('POST', '/admin/pause', { token: TOKEN, body: { reason: 'x' } })).status).toBe(404)
    expect((await call('GET', '/admin/', {})).status).toBe(404)
  })

  it('gives the status: partitions, files in flight, jobs with age, state and attempts', async () => {
    const { call } = await adminServer()
    const { status, json } = await call('GET', '/admin/status', { token: TOKEN })
    expect(status).toBe(200)
    expect(json).toMatchObject({
      partitions: [0, 2],
      filesInFlight: 4,
      bytesInFlight: 2000,
      batchesQueued: 1,
      filesQueued: 2,
    })
    expect(json.jobs).toHaveLength(1)
    expect(json.jobs[0]).toMatchObject({
      jobId: 'job-1',
      batchId: 'b-job',
      files: 1,
      state: 'running',
      attempts: 2,
    })
    expect(json.jobs[0].ageMs).toBeGreaterThanOrEqual(90_000)
  })

  it('finds a job by id, and a file in a job, in a queued batch or in an open batch; else 404', async () => {
    const { call } = await adminServer()
    expect((await call('GET', '/admin/jobs/job-1', { token: TOKEN })).json).toMatchObject({ jobId: 'job-1' })
    expect((await call('GET', '/admin/jobs/job-2', { token: TOKEN })).status).toBe(404)
    const systemName = 'archive'
    const where = async (id: string) =>
      (await call('GET', `/admin/files/${systemName}/${id}`, { token: TOKEN })).json
    expect((await where('j1')).places).toMatchObject([{ stage: 'in-job', jobId: 'job-1', batchId: 'b-job' }])
    expect((await where('q2')).places).toMatchObject([{ stage: 'batched', batchId: 'b-queued' }])
    expect((await where('o1')).places).toMatchObject([{ stage: 'waiting', in: 'open-batch' }])
    expect((await call('GET', `/admin/files/${systemName}/nope`, { token: TOKEN })).status).toBe(404)
    expect((await call('GET', '/admin/files/other-system/j1', { token: TOKEN })).status).toBe(404)
  })

  it('pauses and resumes with a reason, and refuses a request without one', async () => {
    const { call, requestPause } = await adminServer()
    expect((await call('POST', '/admin/pause', { token: TOKEN, body: {} })).status).toBe(400)
    const paused = await call('POST', '/admin/pause', {
      token: TOKEN,
      body: { reason: 'Livingdocs upgrade' },
    })
    expect(paused.json).toMatchObject({ paused: true, reason: 'Livingdocs upgrade' })
    expect((await call('GET', '/admin/status', { token: TOKEN })).json.pause.paused).toBe(true)
    await call('POST', '/admin/resume', { token: TOKEN, body: { reason: 'upgrade done' } })
    expect(requestPause.mock.calls).toEqual([
      [true, 'Livingdocs upgrade'],
      [false, 'upgrade done'],
    ])
  })

  it('serves the page shell without the token, and its live part only with it', async () => {
    const { call } = await adminServer()
    const page = await call('GET', '/admin/')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<main id="live">')
    expect(page.text).not.toContain(TOKEN)
    expect((await call('GET', '/admin/fragment')).status).toBe(401)
    const fragment = await call('GET', '/admin/fragment', { token: TOKEN })
    expect(fragment.text).toContain('job-1')
  })
})
