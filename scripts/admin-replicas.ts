import { lookup } from 'node:dns/promises'
import { readFile } from 'node:fs/promises'
import type { AdminStatus, FileWhere, JobView } from '../src/admin/admin-views.ts'
import { durationText } from '../src/admin/status-page.ts'
import { UserMistake } from './cli.ts'

/** One replica's admin API: its base URL (`http://host:port`, the operations port). */
export interface Replica {
  url: string
}

/**
 * The replicas to ask: the `--url` values as given, or every address the `--dns` name resolves to (the
 * chart's headless `<release>-admin` Service lists every pod) on `--port`.
 * @throws UserMistake when neither is given or the name does not resolve
 */
export async function findReplicas(options: {
  urls: string[]
  dns?: string | undefined
  port: number
}): Promise<Replica[]> {
  if (options.urls.length > 0) return options.urls.map((u) => ({ url: u.replace(/\/+$/, '') }))
  if (options.dns === undefined)
    throw new UserMistake('give the replicas: --url URL (repeatable) or --dns NAME', 2)
  let addresses: Array<{ address: string; family: number }>
  try {
    addresses = await lookup(options.dns, { all: true })
  } catch (err) {
    throw new UserMistake(`${options.dns} does not resolve (${(err as NodeJS.ErrnoException).code})`)
  }
  return addresses.map(({ address, family }) => ({
    url: `http://${family === 6 ? `[${address}]` : address}:${options.port}`,
  }))
}

/**
 * The admin token: `--token-file`, else `ADMIN_TOKEN_FILE`, else `ADMIN_TOKEN` (never a command-line
 * value: it would show in the shell history and the process list).
 * @throws UserMistake when none is set or the file is empty
 */
export async function readToken(tokenFile: string | undefined, env = process.env): Promise<string> {
  const file = tokenFile ?? env.ADMIN_TOKEN_FILE
  const token = file === undefined ? env.ADMIN_TOKEN : (await readFile(file, 'utf8')).trim()
  if (token === undefined || token === '')
    throw new UserMistake(
      'the admin token is needed: --token-file FILE, or ADMIN_TOKEN_FILE or ADMIN_TOKEN',
      2,
    )
  return token
}

/** One replica's answer: the HTTP status and JSON body, or the error that kept it from answering. */
export type Answer<T> = { replica: Replica; status: number; body: T } | { replica: Replica; error: string }

/** Asks every replica at once (`path` under `/admin/`), each within `timeoutMs`. */
export async function askAll<T>(
  replicas: Replica[],
  token: string,
  path: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; timeoutMs?: number } = {},
): Promise<Array<Answer<T>>> {
  return Promise.all(
    replicas.map(async (replica): Promise<Answer<T>> => {
      try {
        const res = await fetch(`${replica.url}/admin/${path}`, {
          method: init.method ?? 'GET',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
          signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
        })
        return { replica, status: res.status, body: (await res.json()) as T }
      } catch (err) {
        return { replica, error: (err as Error).message }
      }
    }),
  )
}

/** `GET /admin/status` of one replica (the fields the CLI reads). */
export type ReplicaStatus = Pick<
  AdminStatus,
  'partitions' | 'pause' | 'holds' | 'filesInFlight' | 'batchesQueued' | 'jobs'
>

/** A job of the merged list, with the replica that follows it. */
export type MergedJob = JobView & { replica: string }

/**
 * Merges the replicas' statuses: every job with its replica, oldest first; the replicas that did not
 * answer (or refused the token) with why.
 */
export function mergeJobs(answers: Array<Answer<ReplicaStatus>>): { jobs: MergedJob[]; failed: string[] } {
  const jobs: MergedJob[] = []
  const failed: string[] = []
  for (const a of answers) {
    if ('error' in a) failed.push(`${a.replica.url}: ${a.error}`)
    else if (a.status !== 200) failed.push(`${a.replica.url}: HTTP ${a.status}`)
    else for (const j of a.body.jobs) jobs.push({ ...j, replica: a.replica.url })
  }
  jobs.sort((x, y) => y.ageMs - x.ageMs)
  return { jobs, failed }
}

/** Merges the replicas' answers to a file lookup: every place with its replica (404s are "not here"). */
export function mergePlaces(answers: Array<Answer<{ places?: FileWhere[] }>>): {
  places: Array<FileWhere & { replica: string }>
  failed: string[]
} {
  const places: Array<FileWhere & { replica: string }> = []
  const failed: string[] = []
  for (const a of answers) {
    if ('error' in a) failed.push(`${a.replica.url}: ${a.error}`)
    else if (a.status === 200)
      for (const p of a.body.places ?? []) places.push({ ...p, replica: a.replica.url })
    else if (a.status !== 404) failed.push(`${a.replica.url}: HTTP ${a.status}`)
  }
  return { places, failed }
}

/** Lines of the merged job list, for a terminal. */
export function jobLines(jobs: MergedJob[]): string[] {
  if (jobs.length === 0) return ['no import job in flight']
  return jobs.map(
    (j) =>
      `${j.jobId}  ${j.state.padEnd(15)} age ${durationText(j.ageMs).padEnd(10)} ${String(j.files).padStart(4)} files  attempt ${j.attempts}  batch ${j.batchId}  on ${j.replica}`,
  )
}

/** Lines of the merged places of a file. */
export function placeLines(places: Array<FileWhere & { replica: string }>): string[] {
  return places.map((p) => {
    const at =
      p.stage === 'in-job'
        ? `in job ${p.jobId} (batch ${p.batchId})`
        : p.stage === 'batched'
          ? `in batch ${p.batchId}, waiting for its submit`
          : p.in === 'open-batch'
            ? 'waiting in an open batch'
            : 'waiting behind an earlier event of the same externalId'
    return `${p.systemName}/${p.externalId}: ${at}, consumed ${durationText(p.ageMs)} ago (partition ${p.partition}, offset ${p.offset}) on ${p.replica}`
  })
}
