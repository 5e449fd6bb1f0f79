// Fix and replay (docs/redrive.md), end to end on the real broker, registry and the emulator, with
// `npm run redrive` run as a user runs it: a wrong mapping's DLQ records redriven by reason once the
// mapping is fixed; a permanent failure redriven until the loop guard stops it; FAILED files of a file
// server outage redriven from the results topic once it is back, with the records retention removed
// named. Kafka's own console consumer reads the redriven records.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DLQ_HEADERS } from '../../src/outcome/dlq-record.ts'
import {
  bridgeEnv,
  countStates,
  createTopics,
  metricValue,
  readDlq,
  startBridgeIn,
  type Topics,
  useE2eWorld,
} from '../support/e2e-world.ts'
import { deleteRecordsBelow, fetchLogEnd, waitCommittedAtLogEnd } from '../support/fault-run.ts'
import { startFileServer } from '../support/file-server.ts'
import { consoleConsume } from '../support/kafka-tools.ts'
import { tempFile } from '../support/mapping-example.ts'
import { runRedrive } from '../support/redrive-cli.ts'
import { writeSampleFiles } from '../support/sample-files.ts'
import { testProducer } from '../support/test-producer.ts'

/** A DAM mapping that takes the URL of the rendition of `kind`; the legacy events call it `master`. */
const damMapping = (kind: string, systemName: string) => `filter: eventType = "ASSET_CREATED"
externalId: asset.id
url: asset.renditions[kind = "${kind}"].href
fileName: asset.title
systemName: '"${systemName}"'
`

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0)
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('fix and replay: npm run redrive', () => {
  const { world, emulator } = useE2eWorld({ images: 20, pdfs: 30 }, { emulator: { token: 'redrive-token' } })

  /** The CLI's environment for `topics`: the world's broker and registry, the bridge's topic settings. */
  const cliEnv = (topics: Topics) => ({
    KAFKA_BROKERS: world.brokers.join(','),
    SCHEMA_REGISTRY_URL: world.schemaRegistryUrl,
    INPUT_TOPIC: topics.input,
    DLQ_TOPIC: topics.dlq,
    RESULT_TOPIC: topics.result,
    JOB_NOTIFICATIONS_TOPIC: topics.notifications,
  })

  it('a wrong mapping sends 50 legacy events to the DLQ; fixed and redriven by reason: 50 SUCCESS, nothing else moved, nothing imported twice', async () => {
    // Given 50 legacy DAM events whose original rendition is called "master", and 3 undecodable records
    const { topics, results } = await createTopics(world, 'redrive-map')
    const dlq = await readDlq(world, topics)
    const run = randomUUID().slice(0, 6)
    const systemName = `dam-${run}`
    const ids = Array.from({ length: 50 }, (_, i) => `A-${run}-${i}`)
    const url = (i: number) => `${world.fileServer.url}/${world.files[i]?.name}`
    const legacy = (id: string, i: number) =>
      JSON.stringify({
        eventType: 'ASSET_CREATED',
        asset: { id, title: `Asset ${i}`, renditions: [{ kind: 'master', href: url(i) }] },
      })
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        ...ids.map((id, i) => ({ key: id, value: legacy(id, i) })),
        ...[0, 1, 2].map((partition) => ({
          partition,
          key: `junk-${partition}`,
          value: Buffer.from([7, 7, 7]),
        })),
      ],
    })
    await producer.disconnect()

    // When a bridge reads them with a mapping that looks for the rendition "original"
    const wrong = await startBridgeIn(
      world,
      bridgeEnv(world, emulator, topics, {
        MAPPING_FILE: tempFile('wrong.yaml', damMapping('original', systemName)),
      }),
    )
    await dlq.waitFor((r) => r.length >= 53, 60_000, '53 DLQ records')
    const produced = await waitCommittedAtLogEnd(
      world,
      { topics },
      60_000,
      undefined,
      'the commit of the 53 records',
    )
    await wrong.stop()

    // Then the 50 events are in the DLQ for their url, the 3 others for their wire format
    const mappingFailed = dlq.records.filter((r) => r.headers[DLQ_HEADERS.reason] === 'MAPPING_FAILED')
    expect(mappingFailed.map((r) => r.headers[DLQ_HEADERS.mappingField])).toEqual(ids.map(() => 'url'))
    expect(dlq.records.filter((r) => r.headers[DLQ_HEADERS.reason] === 'UNKNOWN_WIRE_FORMAT')).toHaveLength(3)
    expect(results.records).toHaveLength(0)
    const bySource = new Map<number, number>()
    for (const r of mappingFailed) {
      const p = Number(r.headers[DLQ_HEADERS.partition])
      bySource.set(p, (bySource.get(p) ?? 0) + 1)
    }
    const partitionsText = [...bySource]
      .sort(([a], [b]) => a - b)
      .map(([p, n]) => `partition ${p}: ${n}`)
      .join(', ')
    const dlqEnd = await fetchLogEnd(world.kafka, topics.dlq)

    // When the dry run looks at the DLQ by reason
    const env = cliEnv(topics)
    const dry = await runRedrive(['dlq', '--reason', 'MAPPING_FAILED', '--dry-run', '--show', '3'], env)
    // Then it counts by reason, says where the records would go, lists three, and sends nothing
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^MAPPING_FAILED\s+50\s+50$/m)
    expect(dry.stdout).toMatch(/^UNKNOWN_WIRE_FORMAT\s+3\s+0$/m)
    expect(dry.stdout).toContain('not selected or not sent: 3 not selected')
    expect(dry.stdout).toContain(`would send to ${topics.input}: ${partitionsText}`)
    const listed = dry.stdout.split('\n').filter((l) => l.startsWith(`  ${topics.input} `))
    expect(listed).toHaveLength(3)
    // Each: the source position, the DLQ position, reason and field, when it failed, where it goes
    expect(listed[0]).toMatch(
      /^ {2}\S+ (\d)\/\d+ {2}dlq 0\/\d+ {2}MAPPING_FAILED \(url\) {2}failed \d{4}-\d\d-\d\dT\S+Z {2}-> partition \1, redrive\.attempt 1$/,
    )
    expect(dry.stdout).toContain('  … and 47 more (--show N lists more)')
    expect(dry.summary).toBe(
      `redrive dlq: dry run, nothing sent: 50 of 53 records would go to ${topics.input}`,
    )
    expect(await fetchLogEnd(world.kafka, topics.input)).toEqual(produced)

    // When the mapping is fixed, the bridge restarted with it, and the DLQ redriven by reason
    const fixed = await startBridgeIn(
      world,
      bridgeEnv(world, emulator, topics, {
        MAPPING_FILE: tempFile('fixed.yaml', damMapping('master', systemName)),
      }),
    )
    const redriveStarted = Date.now()
    const redrive = await runRedrive(['dlq', '--reason', 'MAPPING_FAILED'], env)
    const cliMs = Date.now() - redriveStarted
    expect(redrive.code, redrive.stderr).toBe(0)
    expect(redrive.summary).toMatch(
      new RegExp(
        `^redrive dlq: sent 50 of 53 records to ${escapeRegExp(topics.input)} \\(${partitionsText}\\) in \\d+\\.\\d s$`,
      ),
    )

    // Then all 50 are imported, once each
    await results.waitFor((r) => r.length >= 50, 90_000, '50 results')
    const resultsMs = Date.now() - redriveStarted
    const after = await waitCommittedAtLogEnd(
      world,
      { topics },
      60_000,
      undefined,
      'the commit of the redriven records',
    )
    expect(results.records.map((r) => [r.value.externalId, r.value.state]).sort()).toEqual(
      ids.map((id) => [id, 'SUCCESS']).sort(),
    )
    // And nothing else moved: each input partition got exactly its own redriven records, the DLQ and
    // the job notifications topic nothing, the results topic the 50 results alone
    for (const [p, end] of produced)
      expect(after.get(p), `input partition ${p}`).toBe(end + (bySource.get(p) ?? 0))
    expect(await fetchLogEnd(world.kafka, topics.dlq)).toEqual(dlqEnd)
    expect(sum(await fetchLogEnd(world.kafka, topics.notifications))).toBe(0)
    expect(sum(await fetchLogEnd(world.kafka, topics.result))).toBe(50)
    const metrics = await (await fetch(fixed.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_redriven_records_total{outcome="processed"}')).toBe(50)
    expect(metricValue(metrics, 'bridge_redriven_records_total{outcome="limit_reached"}')).toBe(0)

    // And Kafka's own console consumer sees each redriven record on its source partition with the same
    // key and value, redrive.attempt 1, the failure it had as previous.dlq.*, and no dlq.* header
    const read = await consoleConsume({ brokers: world.brokers, topic: topics.input, maxMessages: 103 })
    const originals = new Map(read.filter((r) => r.headers.length === 0).map((r) => [r.key, r]))
    const redriven = read.filter((r) => r.headers.includes('redrive.attempt:1'))
    expect(originals.size).toBe(53)
    expect(redriven.map((r) => r.key).sort()).toEqual([...ids].sort())
    for (const r of redriven) {
      expect(r.partition, r.key).toBe(originals.get(r.key)?.partition)
      expect(r.value, r.key).toBe(originals.get(r.key)?.value)
      expect(r.headers).toContain('previous.dlq.reason:MAPPING_FAILED')
      expect(r.headers).toContain('previous.dlq.mapping.field:url')
      expect(r.headers.filter((h) => h.startsWith('dlq.'))).toEqual([])
    }

    // When the same redrive runs again
    const again = await runRedrive(['dlq', '--reason', 'MAPPING_FAILED'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.summary).toMatch(/^redrive dlq: sent 50 of 53 records/)
    await results.waitFor((r) => r.length >= 100, 90_000, '50 more results')
    await waitCommittedAtLogEnd(world, { topics }, 60_000, undefined, 'the commit of the second redrive')
    // Then nothing is imported twice: Livingdocs skips each existing pair, and holds 50 entries
    expect(countStates(results.records.map((r) => r.value))).toEqual({ SUCCESS: 50, SKIPPED: 50, FAILED: 0 })
    expect(
      new Set(results.records.filter((r) => r.value.state === 'SKIPPED').map((r) => r.value.reason)),
    ).toEqual(new Set(['already exists']))
    expect(emulator.listMedia().filter((m) => m.systemName === systemName)).toHaveLength(50)
    console.info(
      `[redrive dlq] dlq=53 selected=50 sent=50 success=50 redrive-cli=${cliMs}ms to-50-results=${resultsMs}ms second-run: sent=50 skipped=50 media=50`,
    )
  })

  it('a permanent failure redriven until REDRIVE_MAX_ATTEMPTS stops there: DLQ with REDRIVE_LIMIT_REACHED, the metric moved', async () => {
    // Given an event whose URL no fix of ours will make valid, and a bridge with REDRIVE_MAX_ATTEMPTS=3
    const { topics } = await createTopics(world, 'redrive-loop', 1)
    const dlq = await readDlq(world, topics)
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        {
          key: 'perm-1',
          value: JSON.stringify({
            externalId: 'perm-1',
            url: 'ftp://files.example/a.pdf',
            fileName: 'a.pdf',
            systemName: 'legacy',
            occurredAt: '2026-12-01T00:00:00Z',
          }),
        },
      ],
    })
    await producer.disconnect()
    const bridge = await startBridgeIn(
      world,
      bridgeEnv(world, emulator, topics, { REDRIVE_MAX_ATTEMPTS: '3' }),
    )
    await dlq.waitFor((r) => r.length >= 1, 60_000, 'the first DLQ record')
    const env = cliEnv(topics)

    // When it is redriven by reason, then by source partition (the first DLQ record is superseded by
    // the second: one copy goes), then by failure time (only the latest failure is that recent)
    const first = await runRedrive(['dlq', '--reason', 'INVALID_EVENT'], env)
    expect(first.summary, first.stderr).toMatch(/^redrive dlq: sent 1 of 1 records/)
    await dlq.waitFor((r) => r.length >= 2, 60_000, 'the second DLQ record')
    const second = await runRedrive(['dlq', '--partition', '0'], env)
    expect(second.summary, second.stderr).toMatch(/^redrive dlq: sent 1 of 2 records/)
    expect(second.stdout).toContain(
      '1 redriven before and failed again (the later DLQ record is the one sent)',
    )
    await dlq.waitFor((r) => r.length >= 3, 60_000, 'the third DLQ record')
    const since = dlq.records[2]?.headers[DLQ_HEADERS.failedAt] as string
    const third = await runRedrive(['dlq', '--all', '--since', since], env)
    expect(third.summary, third.stderr).toMatch(/^redrive dlq: sent 1 of 3 records/)
    await dlq.waitFor((r) => r.length >= 4, 60_000, 'the fourth DLQ record')

    // Then the third redrive was not processed: the loop guard sent it to the DLQ with its own reason
    const records = dlq.records.map((r) => ({
      reason: r.headers[DLQ_HEADERS.reason],
      attempt: r.headers['redrive.attempt'],
      previous: r.headers['previous.dlq.reason'],
      previousOffset: r.headers['previous.dlq.source.offset'],
      offset: r.headers[DLQ_HEADERS.offset],
      dlqSet: r.headerList.filter(([n]) => n.startsWith('dlq.')).map(([n]) => n),
      previousSet: r.headerList.filter(([n]) => n.startsWith('previous.')).map(([n]) => n),
    }))
    expect(records.map((r) => [r.reason, r.attempt, r.previous])).toEqual([
      ['INVALID_EVENT', undefined, undefined],
      ['INVALID_EVENT', '1', 'INVALID_EVENT'],
      ['INVALID_EVENT', '2', 'INVALID_EVENT'],
      ['REDRIVE_LIMIT_REACHED', '3', 'INVALID_EVENT'],
    ])
    // And each keeps exactly one set of dlq.* headers, the earlier failure's as previous.dlq.*
    const oneSet = [
      DLQ_HEADERS.reason,
      DLQ_HEADERS.message,
      DLQ_HEADERS.topic,
      DLQ_HEADERS.partition,
      DLQ_HEADERS.offset,
      DLQ_HEADERS.timestamp,
      DLQ_HEADERS.failedAt,
    ]
    expect(records.map((r) => r.dlqSet)).toEqual([oneSet, oneSet, oneSet, oneSet])
    expect(records.map((r) => r.previousSet)).toEqual([
      [],
      ...Array(3).fill(oneSet.map((n) => `previous.${n}`)),
    ])
    expect(records.slice(1).map((r) => r.previousOffset)).toEqual(records.slice(0, 3).map((r) => r.offset))
    expect(dlq.records[3]?.headers[DLQ_HEADERS.message]).toContain('REDRIVE_MAX_ATTEMPTS=3')

    // When it is redriven once more, with every reason
    const fourth = await runRedrive(['dlq', '--all'], env)
    // Then nothing goes: the latest failure is the loop guard's, redriven only when named
    expect(fourth.code, fourth.stderr).toBe(0)
    expect(fourth.summary).toMatch(/^redrive dlq: sent 0 of 4 records/)
    expect(fourth.stdout).toContain('1 REDRIVE_LIMIT_REACHED (redriven only when --reason names it)')
    await waitCommittedAtLogEnd(world, { topics }, 60_000, undefined, 'the commit of the 4 records')
    expect(await fetchLogEnd(world.kafka, topics.input)).toEqual(new Map([[0, 4]]))
    expect(sum(await fetchLogEnd(world.kafka, topics.dlq))).toBe(4)
    // And the metrics show it
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_redriven_records_total{outcome="limit_reached"}')).toBe(1)
    expect(metricValue(metrics, 'bridge_redriven_records_total{outcome="processed"}')).toBe(2)
    expect(metricValue(metrics, 'bridge_events_invalid_total{reason="REDRIVE_LIMIT_REACHED"}')).toBe(1)
    expect(metricValue(metrics, 'bridge_events_invalid_total{reason="INVALID_EVENT"}')).toBe(3)
    expect(bridge.logs.lines.filter((l) => l.reason === 'REDRIVE_LIMIT_REACHED').map((l) => l.msg)).toEqual([
      'record sent to the DLQ',
    ])
    console.info('[redrive loop] redrives=4 processed=2 limit_reached=1 dlq=4 input=4')
  })

  it('FAILED files of a file server outage, redriven from the results topic once it is back: SUCCESS; records retention removed are named', async () => {
    // Given 10 files on a file server that is down: 8 events on input partition 0, 2 on partition 1;
    // and 2 events of a mediaType Livingdocs does not know, on partition 2
    const { topics, results } = await createTopics(world, 'redrive-results')
    const dir = await mkdtemp(join(tmpdir(), 'fib-redrive-'))
    world.defer(() => rm(dir, { recursive: true, force: true }))
    const files = await writeSampleFiles(dir, { images: 0, pdfs: 10 })
    const down = await startFileServer(dir)
    const port = Number(new URL(down.url).port)
    await down.close()
    const run = randomUUID().slice(0, 6)
    const event = (id: string, url: string, mediaType?: string) =>
      JSON.stringify({
        externalId: id,
        url,
        fileName: `${id}.pdf`,
        systemName: `legacy-${run}`,
        occurredAt: '2026-12-01T00:00:00Z',
        ...(mediaType === undefined ? {} : { mediaType }),
      })
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        ...files.map((f, i) => ({
          partition: i < 8 ? 0 : 1,
          key: `f-${i}`,
          value: event(`f-${i}`, `${down.url}/${f.name}`),
        })),
        ...[0, 1].map((i) => ({
          partition: 2,
          key: `b-${i}`,
          value: event(`b-${i}`, `${world.fileServer.url}/${world.files[20 + i]?.name}`, 'brochure'),
        })),
      ],
    })
    await producer.disconnect()
    // (each record once: the positions below are where the results say the records are)
    expect(await fetchLogEnd(world.kafka, topics.input)).toEqual(
      new Map([
        [0, 8],
        [1, 2],
        [2, 2],
      ]),
    )
    await startBridgeIn(world, bridgeEnv(world, emulator, topics))
    await results.waitFor((r) => r.length >= 12, 60_000, '12 results')
    expect(results.records.map((r) => r.value.state)).toEqual(Array(12).fill('FAILED'))
    expect(results.records.filter((r) => r.value.reason?.startsWith('Could not upload file'))).toHaveLength(
      10,
    )

    // And retention removed partition 1's two records once the bridge committed them (the log start
    // offset moves past them, as retention moves it)
    await waitCommittedAtLogEnd(world, { topics }, 60_000, undefined, 'the commit of the 12 records')
    await deleteRecordsBelow(world.kafka, topics.input, 1, 2)
    // And the file server is back, on its port
    const back = await startFileServer(dir, { port })
    world.defer(() => back.close())
    const env = cliEnv(topics)

    // When the dry run looks at the FAILED results of class upload
    const dry = await runRedrive(['results', '--class', 'upload', '--dry-run'], env)
    // Then it counts by class, names the two records retention removed, and sends nothing
    expect(dry.code, `${dry.stdout}\n${dry.stderr}`).toBe(3)
    // (FAILED counts results, which the bridge publishes at least once; selected counts files)
    expect(dry.stdout).toMatch(/^upload\s+(1\d)\s+10$/m)
    expect(dry.stdout).toMatch(/^media-type\s+[2-4]\s+0$/m)
    for (const i of [8, 9])
      expect(dry.stdout).toContain(
        `not found: legacy-${run}/f-${i} at ${topics.input} 1/${i - 8}: removed by retention (partition 1 now starts at offset 2)`,
      )
    expect(dry.stdout).toContain(`would read and send to ${topics.input}: partition 0: 8`)
    expect(dry.summary).toBe(
      `redrive results: dry run, nothing sent: 8 of 10 selected files would go to ${topics.input}, 2 not found`,
    )

    // When it runs
    const redrive = await runRedrive(['results', '--class', 'upload'], env)
    expect(redrive.code, `${redrive.stdout}\n${redrive.stderr}`).toBe(3)
    expect(redrive.summary).toMatch(
      new RegExp(
        `^redrive results: sent 8 of 10 selected files to ${escapeRegExp(topics.input)} \\(partition 0: 8\\), 2 not found, in `,
      ),
    )
    // Then the 8 files are imported
    const redrivenOf = (records: typeof results.records) =>
      new Map(
        records
          .slice(12)
          .map((r) => r.value)
          .filter((v) => v.externalId.startsWith('f-'))
          .map((v) => [v.externalId, [v.state, v.sourcePartition]]),
      )
    await results.waitFor((r) => redrivenOf(r).size >= 8, 60_000, '8 more results')
    expect([...redrivenOf(results.records)].sort()).toEqual(
      files.slice(0, 8).map((_, i) => [`f-${i}`, ['SUCCESS', 0]]),
    )
    // And any other later result repeats a first one (the bridge publishes at least once)
    const repeats = results.records.slice(12).filter((r) => !r.value.externalId.startsWith('f-'))
    expect(repeats.map((r) => r.value.state)).toEqual(repeats.map(() => 'FAILED'))
    // And a second run finds those done: only the two records retention removed are left, not found
    const again = await runRedrive(['results', '--class', 'upload'], env)
    expect(again.code).toBe(3)
    expect(again.stdout).toContain('8 FAILED, but the file has a later result')
    expect(again.summary).toMatch(/^redrive results: sent 0 of 2 selected files to .* 2 not found, in /)
    // And a registry that cannot be reached ends a run (exit 1, saying so) rather than hiding results
    const noRegistry = await runRedrive(['results', '--all', '--dry-run'], {
      ...env,
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
    })
    expect(noRegistry.code).toBe(1)
    expect(noRegistry.stderr).toMatch(/^redrive results: schema registry lookup of id \d+ failed/)
    expect(noRegistry.stderr).not.toMatch(/\n\s+at /)
    // And nothing else moved: 8 more records on input partition 0, none elsewhere, 20 results in all
    await waitCommittedAtLogEnd(world, { topics }, 60_000, undefined, 'the commit of the redriven records')
    expect(await fetchLogEnd(world.kafka, topics.input)).toEqual(
      new Map([
        [0, 16],
        [1, 2],
        [2, 2],
      ]),
    )
    expect(sum(await fetchLogEnd(world.kafka, topics.result))).toBe(20)
    console.info(
      '[redrive results] failed=12 upload=10 removed-by-retention=2 sent=8 success=8 second-run-sent=0',
    )
  })
})
