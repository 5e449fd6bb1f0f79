import { vi } from 'vitest'
import { type AnswerClass, type ApiEndpoint, ApiError } from '../../src/errors.ts'
import type { ImportClient, JobStatus } from '../../src/import/import-client.ts'
import type { FileEntry, ImportRequest } from '../../src/import/import-request.ts'
import type { JobTrackerOptions } from '../../src/jobs/job-tracker.ts'
import type { Batch, PendingFile } from '../../src/model/files.ts'
import { pendingFile } from './pending-file.ts'

/**
 * The job tracker's options in its unit tests (spread and override what a test is about): 4 job slots, a
 * webhook URL, a status poll only every 10 s (tests read through webhooks or the fake timers), 1 s before
 * a lost job's batch is submitted again (at most twice), holds rechecked every 30 s for at most 15 min.
 */
export const JOB_TRACKER_OPTIONS: JobTrackerOptions = {
  maxJobsInFlight: 4,
  pollIntervalMs: 10_000,
  webhookUrl: 'https://bridge.example/webhooks/livingdocs/import-jobs',
  resubmitDelayMs: 1000,
  maxResubmits: 2,
  holdRecheckMs: 30_000,
  maxHoldMs: 900_000,
  jobVisibilityGraceMs: 0,
}

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
  /** What the caller asks of the rate limit when the submit's turn comes (false: withdrawn unsent). */
  stillWanted: (() => boolean) | undefined
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
      (
        request: ImportRequest,
        options?: { headers?: Record<string, string>; stillWanted?: () => boolean },
      ): Promise<string> => {
        const d = deferred<string>()
        submits.push({ request, headers: options?.headers, stillWanted: options?.stillWanted, ...d })
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

/** The error the import client raises for a final answer of `answerClass` (submit, HTTP 400 by default). */
export function apiError(
  answerClass: AnswerClass,
  message: string,
  extra: { endpoint?: ApiEndpoint; status?: number; retryAfterMs?: number; setting?: string } = {},
): ApiError {
  return new ApiError(
    answerClass === 'credentials' ? 'API_UNAUTHORIZED' : 'API_BAD_REQUEST',
    message,
    {
      endpoint: extra.endpoint ?? 'submit',
      status: extra.status ?? 400,
      retryAfterMs: extra.retryAfterMs,
      answerClass,
      setting: extra.setting,
    },
    { retryable: answerClass === 'retry' || answerClass === 'quota' || answerClass === 'unreadable' },
  )
}

/** A file of system `archive` whose metadata names it (`{ n: externalId }`). */
export function namedFile(externalId: string): PendingFile {
  return pendingFile(externalId, { systemName: 'archive', metadata: { n: externalId } })
}

/** A batch of `archive` files (made by `file`, {@link namedFile} by default), closed by `closedBy`. */
export function testBatch(
  id: string,
  externalIds: string[],
  closedBy: Batch['closedBy'] = 'linger',
  file: (externalId: string) => PendingFile = namedFile,
): Batch {
  const files = externalIds.map((e) => file(e))
  return { id, systemName: 'archive', kind: 'file', files, bytes: 1024 + files.length * 100, closedBy }
}

/** The batch id a submit carried in its `context`. */
export const batchIdOf = (call: SubmitCall | undefined) => call?.request.context?.batchId

/** The id of a files[] entry, whether the decoder serialised it already (JSON bytes or text) or not. */
export const entryId = (f: FileEntry | string | Buffer) =>
  typeof f === 'string' || Buffer.isBuffer(f) ? (JSON.parse(f.toString()) as FileEntry).id : f.id

/** The ids of the entries a submit carried, in order. */
export const idsOf = (call: SubmitCall | undefined) => call?.request.files.map(entryId)
