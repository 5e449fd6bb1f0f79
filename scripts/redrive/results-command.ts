/**
 * `npm run redrive -- results`: reads the results topic to its current end, selects the files whose
 * latest result is a selected FAILED one, reads each one's source record at its position on the input
 * topic, and produces it again (docs/redrive.md).
 */
import { isBridgeError } from '../../src/errors.ts'
import type { Kafka } from '../../src/kafka/client.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import type { SchemaCodec } from '../../src/registry/registry.ts'
import { table } from '../text-table.ts'
import { EXIT_PARTLY } from './dlq-command.ts'
import { type Pick, redriveOfRecord } from './dlq-selection.ts'
import { startProgress } from './progress.ts'
import {
  type FailedFile,
  FailedResultSelector,
  pickOfFile,
  RESULT_SKIPS,
  type ResultsSelection,
} from './results-selection.ts'
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
import {
  offsetCount,
  type PartitionOffsets,
  partitionOffsets,
  readRanges,
  wholeRanges,
} from './topic-ranges.ts'

/** What the results sub-command was asked to do. */
export interface ResultsCommand {
  resultsTopic: string
  inputTopic: string
  selection: ResultsSelection
  dryRun: boolean
  show: number
  json: boolean
  idleMs: number
}

/**
 * Runs the results sub-command, printing to `out`: the FAILED results by reason class, each file whose
 * source record is gone (retention removed it, or it is not where the result says), with `dryRun` the
 * files that would be sent, then one summary line (or one JSON object with `json`).
 * @returns the exit code: 0 every selected file's record sent (or listed), 3 some records could not be
 *   found (the others were sent), 1 a topic was not read to its end
 * @throws Error when a topic does not exist, or `SCHEMA_REGISTRY_UNAVAILABLE` when the registry cannot
 *   be reached; kafkajs errors when the brokers cannot be reached
 */
export async function runResultsCommand(
  kafka: Kafka,
  codec: SchemaCodec,
  cmd: ResultsCommand,
  out: (line: string) => void,
): Promise<number> {
  const started = Date.now()
  const resultOffsets = await partitionOffsets(kafka, cmd.resultsTopic)
  const inputOffsets = await partitionOffsets(kafka, cmd.inputTopic)
  const selector = new FailedResultSelector(cmd.selection)
  let undecodable = 0
  const ranges = wholeRanges(resultOffsets)
  const reading = startProgress('reading results', offsetCount(ranges))
  const incompleteResults = await readRanges(
    kafka,
    cmd.resultsTopic,
    ranges,
    async (r) => {
      // A value that is no result event is counted; a registry that cannot be reached ends the run
      // (every result would look unreadable, and FAILED files would be missed silently).
      const result =
        r.value === null
          ? undefined
          : await codec.decode(r.value).catch((err: unknown) => {
              if (isBridgeError(err) && err.retryable) throw err
              return undefined
            })
      if (result === undefined) undecodable++
      else selector.add(result as FileImportResult)
    },
    { idleMs: cmd.idleMs, onProgress: (n) => reading.update(n) },
  ).finally(() => reading.stop())
  const found = selector.finish()

  // Which source records the input topic still holds: retention moves a partition's log start offset.
  const notFound: string[] = []
  const picks: Pick[] = []
  const fileOf = new Map<Pick, FailedFile>()
  for (const file of found.selected) {
    const why = missingWhy(file, inputOffsets.get(file.source.partition), cmd.inputTopic)
    if (why !== undefined) {
      notFound.push(`${fileText(file)}: ${why}`)
      continue
    }
    const pick = pickOfFile(file)
    picks.push(pick)
    fileOf.set(pick, file)
  }
  let sent = new Map<number, number>()
  if (!cmd.dryRun && picks.length > 0 && incompleteResults.length === 0) {
    const result = await sendPicks(kafka, cmd.inputTopic, cmd.inputTopic, picks, redriveOfRecord, cmd.idleMs)
    sent = result.sent
    for (const pick of result.missing)
      notFound.push(`${fileText(fileOf.get(pick) as FailedFile)}: no record at that offset (compacted away?)`)
  }
  const sentCount = totalSent(sent)
  const incomplete = incompleteResults.map(
    (r) => `${cmd.resultsTopic} partition ${r.partition} read to offset ${r.reached} of ${r.to}`,
  )
  const wouldSend = picks.length

  if (cmd.json) {
    out(
      JSON.stringify({
        command: 'results',
        dryRun: cmd.dryRun,
        resultsTopic: cmd.resultsTopic,
        inputTopic: cmd.inputTopic,
        states: found.states,
        undecodable,
        byClass: Object.fromEntries([...found.byClass].filter(([, c]) => c.failed > 0)),
        skipped: found.skipped,
        selected: found.selected.length,
        notFound,
        sent: sentCount,
        byPartition: Object.fromEntries(sent),
        incomplete,
        durationMs: Date.now() - started,
      }),
    )
  } else {
    const { SUCCESS, SKIPPED, FAILED } = found.states
    out(
      `redrive results: read ${SUCCESS + SKIPPED + FAILED + undecodable} results of ${cmd.resultsTopic} (SUCCESS ${SUCCESS}, SKIPPED ${SKIPPED}, FAILED ${FAILED}${undecodable > 0 ? `, ${undecodable} not readable` : ''})`,
    )
    out(
      table(
        ['reason class', 'FAILED', 'selected'],
        [...found.byClass].filter(([, c]) => c.failed > 0).map(([cls, c]) => [cls, c.failed, c.selected]),
      ),
    )
    out(`not selected: ${skippedText(found.skipped, RESULT_SKIPS)}`)
    for (const line of notFound) out(`not found: ${line}`)
    for (const line of incomplete)
      out(`not read to its end (no record came for ${cmd.idleMs} ms), nothing sent: ${line}`)
    if (cmd.dryRun) {
      out(
        `would read and send to ${cmd.inputTopic}: ${perPartition(countByPartition(picks.map((p) => p.source.partition)))}`,
      )
      for (const line of listing(picks.map(pickLine), cmd.show)) out(line)
      out(
        `redrive results: dry run, nothing sent: ${wouldSend} of ${found.selected.length} selected files would go to ${cmd.inputTopic}, ${notFound.length} not found`,
      )
    } else {
      out(
        `redrive results: sent ${sentCount} of ${found.selected.length} selected files to ${cmd.inputTopic} (${perPartition(sent)}), ${notFound.length} not found, in ${seconds(started)}`,
      )
    }
  }
  if (incomplete.length > 0) return 1
  return notFound.length > 0 ? EXIT_PARTLY : 0
}

/** Why `file`'s source record cannot be read from the input topic's partition now; undefined if it can. */
function missingWhy(
  file: FailedFile,
  offsets: PartitionOffsets | undefined,
  inputTopic: string,
): string | undefined {
  const offset = BigInt(file.source.offset)
  if (offsets === undefined) return `${inputTopic} has no partition ${file.source.partition}`
  if (offset < offsets.low)
    return `removed by retention (partition ${file.source.partition} now starts at offset ${offsets.low})`
  if (offset >= offsets.high)
    return `past the end of partition ${file.source.partition} (${offsets.high}): was the topic deleted and created again?`
  return undefined
}

function fileText(file: FailedFile): string {
  return `${file.result.systemName}/${file.result.externalId} at ${file.source.topic} ${file.source.partition}/${file.source.offset}`
}
