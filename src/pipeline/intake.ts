import { setImmediate } from 'node:timers/promises'
import type { Span } from '@opentelemetry/api'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { Assignment } from '../model/assignment.ts'
import type { DecodeFailure, DecodeResult, Filtered, PendingFile } from '../model/files.ts'
import type { ConsumedRecord, RecordHeader, RecordPosition } from '../model/records.ts'
import type { BridgeTracing } from '../telemetry/bridge-tracing.ts'
import { BackpressureGate, type BackpressureOptions } from './backpressure.ts'
import { KeySequencer } from './key-sequencer.ts'
import type { Regained } from './regained-files.ts'

/** Headers carried from the input record to its result event (W3C trace context). */
const CARRIED_HEADERS = new Set(['traceparent', 'tracestate'])
/**
 * Most bytes of carried header values per file: a traceparent is 55 bytes and a tracestate at most 512
 * (W3C Trace Context §3.3.1.1), so this holds any valid trace context, while a record with huge headers
 * cannot make its result event too large for the result topic. Pairs past it are not carried.
 */
const MAX_CARRIED_BYTES = 4096
/**
 * How often a record whose decode took a while sends the consumer group a heartbeat, at most, ms: a run
 * of events each mapped up to `MAPPING_TIMEOUT_MS` (src/mapping/guardrails.ts) inside one fetch must not
 * outlast the session timeout and cost this member its partitions (kafkajs heartbeats only between
 * batches unless asked; its `heartbeat()` itself sends once per heartbeat interval at most, and not
 * while the last one is unanswered).
 */
const HEARTBEAT_EVERY_MS = 1000
/** Shared by every file without carried headers (most): one array fewer per file. Never mutated. */
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([])

/**
 * Gives back the admitted files of revoked partitions that later stages hold (the batcher; the job
 * log's adoptions, which also start on newly owned partitions: `isNew`).
 */
export type DropHeld = (
  isOwned: (position: RecordPosition) => boolean,
  isNew: (position: RecordPosition) => boolean,
) => PendingFile[]

/**
 * What the intake needs of the offset tracker (`OffsetTracker`, src/kafka/offset-tracker.ts): the
 * records in hand by their positions, and the count of those not settled yet.
 */
export interface TrackedOffsets {
  /** Tracked records not settled yet, over all partitions. */
  readonly inFlight: number
  /** Bytes of those records, as given to {@link track}. */
  readonly bytesInFlight: number
  /** True when `position` is at or below the last one tracked for its partition (already in hand). */
  isRedelivery(position: RecordPosition): boolean
  /**
   * Starts tracking a consumed record (positions ascending per partition) that holds `bytes`, consumed
   * at `consumedAt` (epoch ms).
   */
  track(position: RecordPosition, bytes: number, consumedAt: number): void
  /** Passes over offsets up to `position` that hold no record (transaction markers): they count as settled. */
  passOver(position: RecordPosition): void
  /** When the oldest record not settled yet was consumed (epoch ms), or null. */
  oldestPendingAt(): number | null
  /** Marks a tracked record done (its result event or DLQ record acknowledged); unknown ones are ignored. */
  settle(position: RecordPosition): void
  /** Forgets the partitions not in `owned` (after a rebalance): their records no longer count. */
  retainOnly(owned: Assignment): Array<{ topic: string; partition: number; offsets: string[] }>
}

/** The consumer's fetch switch. */
export interface FetchControl {
  pause(): void
  resume(): void
}

/**
 * The pipeline's entry and exit accounting. Every record the consumer hands over is, in this order:
 * skipped if this process already has it in hand (a redelivery after a rebalance); decoded, waiting in
 * place while the schema registry cannot be reached; tracked by its offset; then either sent to the DLQ,
 * settled at once when a mapping's filter skipped it (it gets neither a result nor a DLQ record), or
 * admitted as a {@link PendingFile} to the key sequencer, which releases one file per
 * `systemName` + `externalId` at a time. Each tracked record leaves exactly once: {@link settle} when its
 * result event or DLQ record is acknowledged (or at once when filtered), or dropped by
 * {@link onAssignment} when its partition is revoked (the new owner consumes it again). The files in
 * flight are counted here alone, and the backpressure gate pauses and resumes fetching on that count.
 *
 * @param deps.decode decodes a record (and maps it, with a mapping: src/mapping/), waiting out
 *   transient failures (`withTransientRetry`)
 * @param deps.offsets tracks each record's offset until it is settled (the offset tracker)
 * @param deps.release takes a file the key sequencer released (on to the batcher)
 * @param deps.dropHeld gives back files of revoked partitions that later stages hold
 * @param deps.deadLetter publishes a DLQ record; settles through {@link settle} once acknowledged
 * @param deps.observe sees every tracked position (the job log's adoptions)
 * @param deps.regained says whether a decoded file is one of a job this process still follows, consumed
 *   again after its partition was revoked and assigned back (`RegainedFiles.take`): then it is not
 *   admitted again
 * @param deps.tracing makes each record's `process` span while tracing is on (src/telemetry/): from
 *   the decode to the record's admission, DLQ record or filter, a child of the producer's `traceparent`
 */
export function createIntake(
  options: BackpressureOptions,
  deps: {
    decode: (
      record: ConsumedRecord,
      control: { heartbeat(): Promise<void>; shouldContinue(): boolean },
    ) => DecodeResult | Filtered | Promise<DecodeResult | Filtered>
    offsets: TrackedOffsets
    release: (file: PendingFile) => void
    dropHeld: DropHeld
    deadLetter: (record: ConsumedRecord, failure: DecodeFailure) => void
    fetch: FetchControl
    observe: (position: RecordPosition) => void
    regained?: {
      take(position: RecordPosition): Regained
      revoked(settled: Array<{ topic: string; partition: number; offsets: string[] }>): void
    }
    metrics: Metrics
    logger: Logger
    tracing?: BridgeTracing | undefined
  },
) {
  const { offsets, metrics, logger } = deps
  const tracing = deps.tracing?.on === true ? deps.tracing : undefined
  const sequencer = new KeySequencer(deps.release)
  const gate = new BackpressureGate(options)
  let stopping = false
  let heartbeatAt = Date.now()
  let owned = Assignment.NONE
  /** Joins of the consumer group so far: a decode that outlived one no longer speaks for its record. */
  let joins = 0
  // The decode's control for the consumer's control object of the current fetch: made once per fetch
  // batch (the consumer hands the same object for each of its records), not once per record.
  let lastControl: { heartbeat(): Promise<void>; isRunning(): boolean } | undefined
  let decodeControl = { heartbeat: (): Promise<void> => Promise.resolve(), shouldContinue: () => false }
  const decodeControlOf = (control: { heartbeat(): Promise<void>; isRunning(): boolean }) => {
    if (control !== lastControl) {
      lastControl = control
      decodeControl = { heartbeat: control.heartbeat, shouldContinue: () => control.isRunning() && !stopping }
    }
    return decodeControl
  }

  function applyGate(): void {
    const { inFlight, bytesInFlight } = offsets
    metrics.filesInFlight.set(inFlight)
    metrics.bytesInFlight.set(bytesInFlight)
    const change = gate.update(inFlight, bytesInFlight)
    if (change === 'pause') {
      const atLimit = inFlight >= options.maxFilesInFlight ? 'files' : 'bytes'
      logger.info(
        { inFlight, bytesInFlight },
        `backpressure: ${atLimit} in flight at the limit; pausing fetch`,
      )
      deps.fetch.pause()
      metrics.fetchPaused.set(1)
    } else if (change === 'resume' && !stopping) {
      logger.info({ inFlight, bytesInFlight }, 'backpressure released; resuming fetch')
      deps.fetch.resume()
      metrics.fetchPaused.set(0)
    }
  }

  /**
   * After a decode that took a while: a mapping evaluates in promise callbacks alone, so the answer to
   * the last heartbeat (and any other I/O) waits for a turn of the event loop, and kafkajs sends no
   * heartbeat while one is unanswered. Lets it in, then sends one.
   */
  async function keepAlive(control: { heartbeat(): Promise<void> }): Promise<void> {
    await setImmediate()
    await control.heartbeat().catch(() => undefined)
  }

  /** A decoded record, in its `process` span when there is one (then ended). */
  function take(
    record: ConsumedRecord,
    position: RecordPosition,
    result: DecodeResult | Filtered,
    span?: Span,
  ): boolean {
    if (span === undefined || tracing === undefined) return admit(record, position, result, undefined)
    // In the span's context: the DLQ's log line carries its ids.
    const taken = tracing.withSpan(span, () => admit(record, position, result, span))
    tracing.endProcess(span, result)
    return taken
  }

  /** A decoded record: tracked by its offset, then admitted, dead-lettered or (filtered) settled. */
  function admit(
    record: ConsumedRecord,
    position: RecordPosition,
    result: DecodeResult | Filtered,
    span: Span | undefined,
  ): boolean {
    // What the record holds until it is settled: the file's entry (about the value's size) or, for a
    // DLQ record, the record itself.
    const consumedAt = Date.now()
    offsets.track(position, (record.value?.length ?? 0) + (record.key?.length ?? 0), consumedAt)
    // A file of a job this process still follows, consumed again on a partition assigned back to it
    // ('taken'): tracked above, that job's results settle it; its first copy holds its key. Not shown to
    // the job log's adoptions: an adoption of another job with this file (submitted twice) counts it
    // missing and goes on without it, rather than waiting for a claim that never comes.
    const regained = result.ok ? (deps.regained?.take(position) ?? 'new') : 'new'
    if (regained === 'new') deps.observe(position)
    if (result.ok) {
      if (regained === 'new') sequencer.admit(pendingFile(record, position, result, consumedAt, span))
      else if (regained === 'published') offsets.settle(position)
    } else if ('failure' in result) deps.deadLetter(record, result.failure)
    else {
      // No result event or DLQ record will ever settle it, and its partition commits nothing past it.
      offsets.settle(position)
      metrics.eventsFiltered.inc({ reason: result.filtered })
    }
    applyGate()
    return true
  }

  return {
    /** Files in flight: tracked records not yet settled. */
    get inFlight(): number {
      return offsets.inFlight
    },

    /** When the oldest record in flight was consumed (epoch ms, to the second), or null when none is. */
    oldestInFlightAt(): number | null {
      return offsets.oldestPendingAt()
    },

    /** Files of the pair waiting behind an earlier file of it (the key sequencer), in consumption order. */
    parkedOf(systemName: string, externalId: string): readonly PendingFile[] {
      return sequencer.parkedOf(systemName, externalId)
    },

    /** True once {@link stop} was called. */
    get isStopping(): boolean {
      return stopping
    },

    /**
     * Takes one record from the consumer (see `RecordHandler.onRecord`): at once when the decode is
     * (JSON, or Avro of a known schema id), else once the decode's promise settles, then sending a
     * heartbeat if none went for {@link HEARTBEAT_EVERY_MS} (a mapping can take a while per event).
     * @returns false once stopping, or when a join of the group came while the record was decoded: the
     *   record stays unresolved and is fetched again (by the next owner)
     */
    onRecord(
      record: ConsumedRecord,
      control: { heartbeat(): Promise<void>; isRunning(): boolean },
    ): boolean | Promise<boolean> {
      if (stopping) return false
      metrics.eventsConsumed.inc()
      const position = { topic: record.topic, partition: record.partition, offset: record.offset }
      if (offsets.isRedelivery(position)) return true
      // Off: no span, one check per record.
      const span = tracing === undefined ? undefined : tracing.startProcess(record)
      const result = deps.decode(record, decodeControlOf(control))
      if (!(result instanceof Promise)) return take(record, position, result, span)
      const joinedAt = joins
      return result.then((r) => {
        // A join came while it decoded: the record's partition may have gone (its offsets and files were
        // dropped) or come anew (tracked afresh from the committed offset). Not taken: the consumer leaves
        // it unresolved, and whoever owns the partition now fetches it again.
        if (joins !== joinedAt) {
          if (span !== undefined) tracing?.endProcess(span, r)
          return false
        }
        const now = Date.now()
        if (now - heartbeatAt < HEARTBEAT_EVERY_MS) return take(record, position, r, span)
        heartbeatAt = now
        return keepAlive(control).then(() => take(record, position, r, span))
      })
    },

    /**
     * After each join of the consumer group: forgets the offsets of revoked partitions and drops their
     * files from every stage that holds them; a dropped file that held its key releases the next file
     * of that key.
     */
    onAssignment(assignment: Assignment): void {
      joins++
      const before = owned
      owned = assignment
      const isOwned = (p: RecordPosition) => assignment.owns(p)
      const isNew = (p: RecordPosition) => assignment.owns(p) && !before.owns(p)
      // Records of revoked partitions settled but not committed: their results are published.
      const settledOfRevoked = offsets.retainOnly(assignment)
      deps.regained?.revoked(settledOfRevoked)
      const parked = sequencer.dropPartitions(isOwned)
      const held = deps.dropHeld(isOwned, isNew)
      for (const f of held) sequencer.done(f)
      if (parked.length + held.length > 0)
        logger.info(
          { parked: parked.length, buffered: held.length },
          'rebalance: dropped files of revoked partitions',
        )
      applyGate()
    },

    /**
     * The consumer passed over offsets up to `position` that hold no record for the pipeline (a
     * transaction's commit marker, an aborted transaction's records): on an owned partition they count as
     * settled, so a drained partition commits its log-end offset.
     */
    onEmptyRange(position: RecordPosition): void {
      if (stopping || !owned.owns(position)) return
      offsets.passOver(position)
    },

    /**
     * Settles acknowledged records: their offsets may be committed, and each file releases its key.
     * @param files the files of a settled job (none for a DLQ record)
     */
    settle(positions: RecordPosition[], files: PendingFile[]): void {
      for (const p of positions) offsets.settle(p)
      for (const f of files) sequencer.done(f)
      applyGate()
    },

    /** Takes no more records and never resumes fetching (shutdown): not ready, fetch paused. */
    stop(): void {
      stopping = true
      deps.fetch.pause()
    },
  }
}

export type Intake = ReturnType<typeof createIntake>

/**
 * The pending file of a decoded record: the few fields of its event that later stages read (the rest is
 * in its entry's JSON), and its trace headers (src/telemetry/trace-context.ts) as they came: every
 * `traceparent` and `tracestate` pair in order, the same tuples (no copy of the bytes), up to
 * {@link MAX_CARRIED_BYTES}; and the context of its record's span when tracing recorded one.
 */
function pendingFile(
  record: ConsumedRecord,
  position: RecordPosition,
  decoded: Extract<DecodeResult, { ok: true }>,
  consumedAt: number,
  span: Span | undefined,
): PendingFile {
  let headers = NO_HEADERS
  if (record.headers.length > 0) {
    let bytes = 0
    const carried = record.headers.filter(([name, value]) => {
      if (!CARRIED_HEADERS.has(name)) return false
      bytes += value?.length ?? 0
      return bytes <= MAX_CARRIED_BYTES
    })
    if (carried.length > 0) headers = carried
  }
  const { externalId, systemName, kind, occurredAt } = decoded.event
  return {
    event: { externalId, systemName, kind, occurredAt },
    position,
    consumedAt,
    producedAt: record.timestamp,
    bytes: decoded.bytes,
    entry: decoded.entry,
    headers,
    recordSpan: span?.spanContext(),
  }
}
