import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { Assignment } from '../model/assignment.ts'
import type { DecodeFailure, DecodeResult, Filtered, PendingFile } from '../model/files.ts'
import type { ConsumedRecord, RecordHeader, RecordPosition } from '../model/records.ts'
import { BackpressureGate, type BackpressureOptions } from './backpressure.ts'
import { KeySequencer } from './key-sequencer.ts'

/** Headers carried from the input record to its result event (W3C trace context). */
const CARRIED_HEADERS = new Set(['traceparent', 'tracestate'])
/**
 * Most bytes of carried header values per file: a traceparent is 55 bytes and a tracestate at most 512
 * (W3C Trace Context §3.3.1.1), so this holds any valid trace context, while a record with huge headers
 * cannot make its result event too large for the result topic. Pairs past it are not carried.
 */
const MAX_CARRIED_BYTES = 4096
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
  /** True when `position` is at or below the last one tracked for its partition (already in hand). */
  isRedelivery(position: RecordPosition): boolean
  /** Starts tracking a consumed record (positions ascending per partition). */
  track(position: RecordPosition): void
  /** Marks a tracked record done (its result event or DLQ record acknowledged); unknown ones are ignored. */
  settle(position: RecordPosition): void
  /** Forgets the partitions not in `owned` (after a rebalance): their records no longer count. */
  retainOnly(owned: Assignment): void
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
    metrics: Metrics
    logger: Logger
  },
) {
  const { offsets, metrics, logger } = deps
  const sequencer = new KeySequencer(deps.release)
  const gate = new BackpressureGate(options)
  let stopping = false
  let owned = Assignment.NONE
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
    metrics.filesInFlight.set(offsets.inFlight)
    const change = gate.update(offsets.inFlight)
    if (change === 'pause') {
      logger.info({ inFlight: offsets.inFlight }, 'backpressure: files in flight at the limit; pausing fetch')
      deps.fetch.pause()
      metrics.fetchPaused.set(1)
    } else if (change === 'resume' && !stopping) {
      logger.info({ inFlight: offsets.inFlight }, 'backpressure released; resuming fetch')
      deps.fetch.resume()
      metrics.fetchPaused.set(0)
    }
  }

  /** A decoded record: tracked by its offset, then admitted, dead-lettered or (filtered) settled. */
  function take(record: ConsumedRecord, position: RecordPosition, result: DecodeResult | Filtered): boolean {
    offsets.track(position)
    deps.observe(position)
    if (result.ok) sequencer.admit(pendingFile(record, position, result))
    else if ('failure' in result) deps.deadLetter(record, result.failure)
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

    /** True once {@link stop} was called. */
    get isStopping(): boolean {
      return stopping
    },

    /**
     * Takes one record from the consumer (see `RecordHandler.onRecord`): at once when the decode is
     * (JSON, or Avro of a known schema id), else once the decode's promise settles.
     * @returns false once stopping: the record stays unresolved and is fetched again by the next owner
     */
    onRecord(
      record: ConsumedRecord,
      control: { heartbeat(): Promise<void>; isRunning(): boolean },
    ): boolean | Promise<boolean> {
      if (stopping) return false
      metrics.eventsConsumed.inc()
      const position = { topic: record.topic, partition: record.partition, offset: record.offset }
      if (offsets.isRedelivery(position)) return true
      const result = deps.decode(record, decodeControlOf(control))
      if (result instanceof Promise) return result.then((r) => take(record, position, r))
      return take(record, position, result)
    },

    /**
     * After each join of the consumer group: forgets the offsets of revoked partitions and drops their
     * files from every stage that holds them; a dropped file that held its key releases the next file
     * of that key.
     */
    onAssignment(assignment: Assignment): void {
      const before = owned
      owned = assignment
      const isOwned = (p: RecordPosition) => assignment.owns(p)
      const isNew = (p: RecordPosition) => assignment.owns(p) && !before.owns(p)
      offsets.retainOnly(assignment)
      const parked = sequencer.dropPartitions(isOwned)
      const held = deps.dropHeld(isOwned, isNew)
      for (const f of held) sequencer.done(f)
      if (parked + held.length > 0)
        logger.info({ parked, buffered: held.length }, 'rebalance: dropped files of revoked partitions')
      applyGate()
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
 * in its entry's JSON), and its trace headers (src/tracing.ts) as they came: every
 * `traceparent` and `tracestate` pair in order, the same tuples (no copy of the bytes), up to
 * {@link MAX_CARRIED_BYTES}.
 */
function pendingFile(
  record: ConsumedRecord,
  position: RecordPosition,
  decoded: Extract<DecodeResult, { ok: true }>,
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
    consumedAt: Date.now(),
    bytes: decoded.bytes,
    entry: decoded.entry,
    headers,
  }
}
