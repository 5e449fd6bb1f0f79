import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Router } from 'express'
import type { Gauge } from 'prom-client'
import { createBroadcastConsumer } from '../kafka/broadcast-consumer.ts'
import type { Kafka } from '../kafka/client.ts'
import type { OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import type { ConcludedJob } from '../model/outcomes.ts'
import type { Progress } from '../progress/progress.ts'
import { createAdminRouter } from './admin-app.ts'
import type { AdminSources, FollowedJob } from './admin-views.ts'
import { PauseControl, type PauseState } from './pause-control.ts'
import { RecentOutcomes } from './recent-outcomes.ts'

/** How long start-up waits to have read the whole control topic before it fetches, ms. */
const CONTROL_CATCH_UP_TIMEOUT_MS = 30_000

/** The admin API of one replica, with the pause state it reads from the control topic. */
export interface Admin {
  /** Mounted under `/admin` on the operations port. */
  readonly router: Router
  /** Counts a concluded job's files for the page's "last hour". */
  concluded(job: ConcludedJob): void
  /** Notes the group's latest progress reading for the page. */
  progressRead(progress: Progress): void
  /** Problems of the control topic's reader, for `/readyz`. */
  readiness(): string[]
  /** Reads the control topic to its end (a pause in force applies before the first fetch). */
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * What the admin API reads of the stages and switches on them (structural: the group consumer, the
 * fetch switch, the intake, the batcher, the job tracker and the outcome publisher as src/app.ts has
 * them; this module imports none of them).
 */
export interface AdminStages {
  consumer: { readonly assignment: { partitionsOf(topic: string): number[] } }
  fetch: { set(holder: 'operator', hold: boolean): void }
  intake: {
    readonly inFlight: number
    oldestInFlightAt(): number | null
    parkedOf(systemName: string, externalId: string): readonly PendingFile[]
  }
  /** The offset tracker: the bytes the records in flight hold. */
  offsets: { readonly bytesInFlight: number }
  batcher: { openFilesOf(systemName: string, externalId: string): readonly PendingFile[] }
  jobs: {
    readonly view: { queued: readonly Batch[]; jobs: readonly FollowedJob[]; holds: readonly string[] }
    pauseSubmits(paused: boolean): void
  }
  publisher: { readiness(): string[] }
}

/** The admin API's view of this replica, read from the stages. */
function sourcesOf(stages: AdminStages, topic: string): Omit<AdminSources, 'pause'> {
  const { consumer, intake, offsets, batcher, jobs, publisher } = stages
  return {
    partitions: () => consumer.assignment.partitionsOf(topic),
    holds: () => [...jobs.view.holds.map((h) => `import API: ${h}`), ...publisher.readiness()],
    inFlight: () => ({
      files: intake.inFlight,
      bytes: offsets.bytesInFlight,
      oldestAt: intake.oldestInFlightAt(),
    }),
    parkedOf: (systemName, externalId) => intake.parkedOf(systemName, externalId),
    openFilesOf: (systemName, externalId) => batcher.openFilesOf(systemName, externalId),
    jobs: () => jobs.view,
  }
}

/**
 * Builds the admin API (src/admin/admin-app.ts) and the control topic's reader, or null without an
 * admin token (then no admin route exists and no pause can be asked; `bridge_paused` stays 0). A pause (or resume) read from
 * the control topic pauses (resumes) this replica's fetching (the `operator` holder of the fetch
 * switch) and its submits.
 *
 * @param options.topic the input topic (this replica's partitions of it are shown)
 * @param deps.onFatal the control reader crashed for good (the bridge stops)
 */
export function createAdmin(
  options: { token: string | undefined; controlTopic: string; groupId: string; topic: string },
  deps: {
    kafka: Kafka
    send: (topic: string, messages: OutgoingMessage[]) => Promise<unknown>
    stages: AdminStages
    /** The pause's gauges (src/metrics-migration.ts). */
    metrics: { paused: Gauge; pausedSince: Gauge }
    logger: Logger
    onFatal: (component: string, err: unknown) => void
  },
): Admin | null {
  const { token } = options
  if (token === undefined) return null
  const { stages } = deps
  const apply = (paused: boolean) => {
    stages.fetch.set('operator', paused)
    stages.jobs.pauseSubmits(paused)
  }
  const logger = deps.logger.child({ component: 'admin' })
  const instance = hostname()
  const control = new PauseControl(
    { topic: options.controlTopic, groupId: options.groupId, instance },
    { send: deps.send, apply, logger, gauges: deps.metrics },
  )
  const reader = createBroadcastConsumer(
    deps.kafka,
    {
      topic: options.controlTopic,
      groupId: `${options.groupId}.control.${instance}-${randomUUID().slice(0, 8)}`,
      fromBeginning: true,
    },
    {
      logger,
      onRecord: (record) => control.onRecord(record),
      onFatal: (err) => deps.onFatal('control reader', err),
    },
  )
  const recent = new RecentOutcomes()
  let progress: Progress | null = null
  const router = createAdminRouter({
    sources: { ...sourcesOf(stages, options.topic), pause: (): PauseState => control.state },
    token,
    request: (paused, reason) => control.request(paused, reason),
    logger,
    pageExtras: () => ({ progress, recent: recent.counts() }),
  })
  return {
    router,
    concluded: (job) => recent.record(job),
    progressRead: (p) => {
      progress = p
    },
    readiness: () => (reader.isReady ? [] : ['control topic reader has not joined its group']),
    async start() {
      await reader.start()
      await reader.waitCaughtUp(CONTROL_CATCH_UP_TIMEOUT_MS)
      logger.info({ pause: control.state }, 'control topic read')
    },
    stop: () => reader.stop(),
  }
}
