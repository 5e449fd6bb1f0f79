import { describe, expect, it } from 'vitest'
import {
  type Answer,
  mergeJobs,
  mergePlaces,
  type ReplicaStatus,
  readToken,
} from '../../../scripts/admin-replicas.ts'
import type { FileWhere, JobView } from '../../../src/admin/admin-views.ts'

const job = (jobId: string, ageMs: number): JobView => ({
  jobId,
  batchId: `b-${jobId}`,
  systemName: 'archive',
  kind: 'file',
  files: 3,
  submittedAt: 0,
  ageMs,
  state: 'running',
  attempts: 1,
  countedMs: ageMs,
})
const status = (jobs: JobView[]): ReplicaStatus => ({
  partitions: [0],
  pause: { paused: false, reason: '', at: 0, by: '' },
  holds: [],
  filesInFlight: 0,
  batchesQueued: 0,
  jobs,
})

describe('the admin CLI merging replicas', () => {
  it('lists the jobs of every replica that answered, oldest first, and names the ones that did not', () => {
    const answers: Array<Answer<ReplicaStatus>> = [
      { replica: { url: 'http://a' }, status: 200, body: status([job('j1', 5000), job('j2', 90_000)]) },
      { replica: { url: 'http://b' }, status: 200, body: status([job('j3', 20_000)]) },
      { replica: { url: 'http://c' }, error: 'connect ECONNREFUSED' },
      { replica: { url: 'http://d' }, status: 401, body: status([]) },
    ]
    const { jobs, failed } = mergeJobs(answers)
    expect(jobs.map((j) => [j.jobId, j.replica])).toEqual([
      ['j2', 'http://a'],
      ['j3', 'http://b'],
      ['j1', 'http://a'],
    ])
    expect(failed).toEqual(['http://c: connect ECONNREFUSED', 'http://d: HTTP 401'])
  })

  it('merges the places of a file; a 404 means "not here", not a failure', () => {
    const place = { systemName: 'archive', externalId: 'x', stage: 'in-job', jobId: 'j1' } as FileWhere
    const { places, failed } = mergePlaces([
      { replica: { url: 'http://a' }, status: 404, body: {} },
      { replica: { url: 'http://b' }, status: 200, body: { places: [place] } },
    ])
    expect(places).toEqual([{ ...place, replica: 'http://b' }])
    expect(failed).toEqual([])
  })

  it('reads the token from ADMIN_TOKEN when no file is named, and refuses none', async () => {
    expect(await readToken(undefined, { ADMIN_TOKEN: 'tok-from-env-123456' })).toBe('tok-from-env-123456')
    await expect(readToken(undefined, {})).rejects.toThrow(/admin token is needed/)
  })
})
