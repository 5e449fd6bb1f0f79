/**
 * `npm run redrive -- dlq`: reads the DLQ topic to its current end, selects records, and produces each
 * selected one again onto the input topic (docs/redrive.md).
 */
import type { Kafka } from '../../src/kafka/client.ts'
import { table } from '../text-table.ts'
import { DLQ_SKIPS, type DlqSelection, DlqSelector, type Pick, redriveOfRecord } from './dlq-selection.ts'
import { startProgress } from './progress.ts'
import {
  countByPartition,
  listing,
  perPartition,
  pickLine,
  seconds,
  sendPicks,
  skippedText,
  totalSent,
} from './send.ts'
import { offsetCount, partitionOffsets, readRanges, wholeRanges } from './topic-ranges.ts'

/** What the dlq sub-command was asked to do. */
export interface DlqCommand {
  dlqTopic: string
  inputTopic: string
  selection: DlqSelection
  dryRun: boolean
  show: number
  json: boolean
  idleMs: number
}

/** Exit code when some selected records could not be sent (the others were). */
export const EXIT_PARTLY = 3

/**
 * Runs the dlq sub-command, printing to `out` (stdout): the counts by reason, with `dryRun` the records
 * that would be sent, then one summary line (or one JSON object with `json`). The DLQ is read twice:
 * once to select (keeping only the small {@link Pick} of each record), once to send the records chosen,
 * as they are read, so memory does not grow with the records' size.
 * @returns the exit code: 0 every selected record sent (or listed), 3 some could not be (their partition
 *   is not on the input topic, or the DLQ no longer held them), 1 the DLQ was not read to its end
 * @throws Error when a topic does not exist or a send failed; kafkajs errors when the brokers cannot be
 *   reached
 */
export async function runDlqCommand(
  kafka: Kafka,
  cmd: DlqCommand,
  out: (line: string) => void,
): Promise<number> {
  const started = Date.now()
  const dlqOffsets = await partitionOffsets(kafka, cmd.dlqTopic)
  const inputOffsets = await partitionOffsets(kafka, cmd.inputTopic)
  const ranges = wholeRanges(dlqOffsets)
  const selector = new DlqSelector(cmd.selection)
  const reading = startProgress('reading the DLQ', offsetCount(ranges))
  const incomplete = await readRanges(kafka, cmd.dlqTopic, ranges, (r) => selector.add(r), {
    idleMs: cmd.idleMs,
    onProgress: (n) => reading.update(n),
  }).finally(() => reading.stop())
  const found = selector.finish()
  const readMs = Date.now() - started
  // A partition the input topic does not have (a DLQ of another topic's records with more partitions).
  const sendable: Pick[] = []
  const notSent: string[] = []
  for (const pick of found.selected) {
    if (inputOffsets.has(pick.source.partition)) sendable.push(pick)
    else notSent.push(`${where(pick)}: ${cmd.inputTopic} has no partition ${pick.source.partition}`)
  }
  let sent = new Map<number, number>()
  if (!cmd.dryRun && sendable.length > 0 && incomplete.length === 0) {
    const result = await sendPicks(kafka, cmd.dlqTopic, cmd.inputTopic, sendable, redriveOfRecord, cmd.idleMs)
    sent = result.sent
    for (const pick of result.missing)
      notSent.push(`${where(pick)}: no longer in ${cmd.dlqTopic} at ${pick.at.partition}/${pick.at.offset}`)
  }
  const sentCount = totalSent(sent)
  const incompleteText = incomplete.map(
    (r) => `partition ${r.partition} read to offset ${r.reached} of ${r.to}`,
  )

  if (cmd.json) {
    out(
      JSON.stringify({
        command: 'dlq',
        dryRun: cmd.dryRun,
        dlqTopic: cmd.dlqTopic,
        inputTopic: cmd.inputTopic,
        read: found.read,
        byReason: Object.fromEntries(found.byReason),
        skipped: found.skipped,
        selected: found.selected.length,
        notSent,
        sent: sentCount,
        byPartition: Object.fromEntries(
          cmd.dryRun ? countByPartition(sendable.map((p) => p.source.partition)) : sent,
        ),
        incomplete: incompleteText,
        durationMs: Date.now() - started,
      }),
    )
  } else {
    out(`redrive dlq: read ${found.read} records of ${cmd.dlqTopic} in ${(readMs / 1000).toFixed(1)} s`)
    out(
      table(
        ['dlq.reason', 'read', 'selected'],
        [...found.byReason]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([reason, c]) => [reason, c.read, c.selected]),
      ),
    )
    out(`not selected or not sent: ${skippedText(found.skipped, DLQ_SKIPS)}`)
    for (const line of notSent) out(`not sent: ${line}`)
    for (const line of incompleteText)
      out(`not read to its end (no record came for ${cmd.idleMs} ms), nothing sent: ${line}`)
    if (cmd.dryRun) {
      out(
        `would send to ${cmd.inputTopic}: ${perPartition(countByPartition(sendable.map((p) => p.source.partition)))}`,
      )
      for (const line of listing(sendable.map(pickLine), cmd.show)) out(line)
      out(
        `redrive dlq: dry run, nothing sent: ${sendable.length} of ${found.read} records would go to ${cmd.inputTopic}`,
      )
    } else {
      out(
        `redrive dlq: sent ${sentCount} of ${found.read} records to ${cmd.inputTopic} (${perPartition(sent)}) in ${seconds(started)}`,
      )
    }
  }
  if (incomplete.length > 0) return 1
  return notSent.length > 0 ? EXIT_PARTLY : 0
}

function where(pick: Pick): string {
  return `${pick.source.topic} ${pick.source.partition}/${pick.source.offset}`
}
