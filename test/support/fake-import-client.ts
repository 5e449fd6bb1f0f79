import { vi } from 'vitest'
import type { ImportClient, JobStatus } from '../../src/import/import-client.ts'
import type { ImportRequest } from '../../src/import/import-request.ts'

/** A promise with its resolve and reject in hand. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (err: unknown) => void
}

/** A {@link Deferred} of `T`. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A submit the fake received, answered through its deferred. */
export interface SubmitCall extends Deferred<string> {
  request: ImportRequest
  headers: Record<string, string> | undefined
}
/** A status read the fake received, answered through its deferred. */
export interface StatusCall extends Deferred<JobStatus> {
  jobId: string
}

/**
 * A scripted stand-in for the import client in unit tests of the job tracker: every call is recorded
 * (`submits`, `statuses`) and answered by the test through its deferred, unless `onSubmit` / `onStatus`
 * answer it at once. `client` is typed as the real `ImportClient`.
 */
export function fakeImportClient(
  answers: {
    onSubmit?: (request: ImportRequest) => Promise<string>
    onStatus?: (jobId: string) => Promise<JobStatus>
  } = {},
) {
  const submits: SubmitCall[] = []
  const statuses: StatusCall[] = []
  const fake = {
    submits,
    statuses,
    onSubmit: answers.onSubmit,
    onStatus: answers.onStatus,
    submit: vi.fn(
      (request: ImportRequest, options?: { headers?: Record<string, string> }): Promise<string> => {
        const d = deferred<string>()
        submits.push({ request, headers: options?.headers, ...d })
        return fake.onSubmit === undefined ? d.promise : fake.onSubmit(request)
      },
    ),
    status: vi.fn((jobId: string): Promise<JobStatus> => {
      if (fake.onStatus !== undefined) return fake.onStatus(jobId)
      const d = deferred<JobStatus>()
      statuses.push({ jobId, ...d })
      return d.promise
    }),
    close: vi.fn(async () => {}),
  }
  return Object.assign(fake, { client: fake as unknown as ImportClient })
}

export type FakeImportClient = ReturnType<typeof fakeImportClient>
