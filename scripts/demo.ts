/**
 * The main job, end to end on real parts: starts the local Kafka + schema registry stack (unless
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set), the Livingdocs emulator, a static server for the
 * sample files, and the bridge; produces a sample legacy export (real PNG images, PDF documents and MP4
 * videos, which go to Livingdocs' image, file and video imports; some URLs broken on purpose, some ids
 * repeated, one undecodable record); waits for every result; prints a summary; stops everything it
 * started.
 *
 *   npm run demo [-- --images 140 --pdfs 70 --videos 20 --broken 12 --repeats 10 --timeout-ms 180000]
 *
 * The last line starts with `demo:`. Exit code 0 when every produced record got a result (or a DLQ
 * record), 1 otherwise.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startBridge } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { createKafka } from '../src/kafka/client.ts'
import { createIdempotentProducer } from '../src/kafka/producer.ts'
import { ensureTopics } from '../src/kafka/topics.ts'
import { createLogger } from '../src/logging.ts'
import { loadMapping } from '../src/mapping/compile.ts'
import { createSchemaCodec } from '../src/registry/registry.ts'
import { startFileServer } from '../test/support/file-server.ts'
import { freePort } from '../test/support/free-port.ts'
import { startLivingdocsEmulator } from '../test/support/livingdocs-emulator/index.ts'
import { resultDecoder, startTopicReader } from '../test/support/result-reader.ts'
import { buildSampleExport } from '../test/support/sample-export.ts'
import { writeSampleFiles } from '../test/support/sample-files.ts'
import { produceExport } from './produce-export.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = (line: string) => process.stdout.write(`${line}\n`)

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '140' },
    pdfs: { type: 'string', default: '70' },
    videos: { type: 'string', default: '20' },
    broken: { type: 'string', default: '12' },
    repeats: { type: 'string', default: '10' },
    'timeout-ms': { type: 'string', default: '180000' },
  },
})

async function main(): Promise<number> {
  const stops: Array<[string, () => Promise<unknown> | unknown]> = []
  let summary = { code: 1, line: 'demo: failed before any result' }
  try {
    summary = await run(stops)
  } catch (err) {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    summary = { code: 1, line: `demo: failed: ${(err as Error).message}` }
  } finally {
    for (const [name, stop] of stops.reverse()) {
      try {
        await stop()
      } catch (err) {
        process.stderr.write(`demo: stopping ${name} failed: ${(err as Error).message}\n`)
      }
    }
  }
  // The last line, after everything stopped.
  out(summary.line)
  return summary.code
}

async function run(
  stops: Array<[string, () => Promise<unknown> | unknown]>,
): Promise<{ code: number; line: string }> {
  // 1. Kafka and the schema registry: given, or the local stack.
  let brokers = process.env.KAFKA_BROKERS
  let registryUrl = process.env.SCHEMA_REGISTRY_URL
  let ownStack = false
  if (brokers === undefined || registryUrl === undefined) {
    ownStack = true
    out('demo: starting the local Kafka broker and schema registry (scripts/stack start)')
    // Its progress goes to stderr; its stdout (export lines) is for shells, not for this output.
    const started = spawnSync(`${root}scripts/stack`, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] })
    if (started.status !== 0) throw new Error('scripts/stack start failed (see above)')
    stops.push([
      'stack',
      () => spawnSync(`${root}scripts/stack`, ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] }),
    ])
    const env = spawnSync(`${root}scripts/stack`, ['env'], { encoding: 'utf8' }).stdout
    brokers = /KAFKA_BROKERS=(\S+)/.exec(env)?.[1]
    registryUrl = /SCHEMA_REGISTRY_URL=(\S+)/.exec(env)?.[1]
    if (brokers === undefined || registryUrl === undefined)
      throw new Error(`scripts/stack env printed no addresses: ${env}`)
  }
  const runId = Date.now().toString(36)
  const topics = {
    input: `demo-${runId}.file-created`,
    result: `demo-${runId}.results`,
    dlq: `demo-${runId}.dlq`,
    notifications: `demo-${runId}.job-notifications`,
  }
  const quiet = createLogger({ level: 'error', destination: process.stderr })
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'demo' }, { logger: quiet })
  await ensureTopics(kafka, [
    { topic: topics.input, numPartitions: 3 },
    { topic: topics.result, numPartitions: 3 },
    { topic: topics.dlq, numPartitions: 1 },
    { topic: topics.notifications, numPartitions: 1 },
  ])

  // 2. Sample files and their server, the Livingdocs emulator.
  const dir = `${root}.cache/demo-files`
  const files = await writeSampleFiles(dir, {
    images: Number(opts.images),
    pdfs: Number(opts.pdfs),
    videos: Number(opts.videos),
  })
  const fileServer = await startFileServer(dir)
  stops.push(['file server', () => fileServer.close()])
  const emulator = await startLivingdocsEmulator({
    token: 'demo-token',
    jobDurationMs: 300,
    // The project config's media types in Livingdocs' shape: a file, an image and a video type, each
    // requiring a title (the export's events carry one).
    mediaTypes: (['mediaFile', 'mediaImage', 'mediaVideo'] as const).map((type, i) => ({
      handle: ['file', 'image', 'video'][i] as string,
      type,
      metadata: [
        { handle: 'title', type: 'li-text', config: { required: true, maxLength: 200 } },
        { handle: 'description', type: 'li-text' },
      ],
    })),
  })
  stops.push(['emulator', () => emulator.close()])
  out(
    `demo: Livingdocs emulator at ${emulator.url}, sample files at ${fileServer.url} (${files.length} files)`,
  )

  // 3. The bridge, configured as an operator would, through its environment variables.
  const httpPort = await freePort()
  const metricsPort = await freePort()
  // A throwaway admin token per run, printed below so that the run can be paused from another shell.
  const adminToken = randomBytes(12).toString('hex')
  const config = loadConfig(
    {
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      KAFKA_GROUP_ID: `demo-${runId}`,
      INPUT_TOPIC: topics.input,
      RESULT_TOPIC: topics.result,
      DLQ_TOPIC: topics.dlq,
      JOB_NOTIFICATIONS_TOPIC: topics.notifications,
      LIVINGDOCS_BASE_URL: emulator.url,
      LIVINGDOCS_API_VERSION: emulator.apiVersion,
      LIVINGDOCS_ACCESS_TOKEN: 'demo-token',
      WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
      // A fresh random HMAC key per run: it signs each request's context and authenticates the webhooks.
      WEBHOOK_SECRET: randomBytes(32).toString('hex'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      METRICS_PORT: String(metricsPort),
      ADMIN_TOKEN: adminToken,
      CONTROL_TOPIC: `demo-${runId}.control`,
      CREATE_MISSING_TOPICS: 'true',
      BATCH_MAX_FILES: '50',
      BATCH_LINGER_MS: '500',
      STATUS_POLL_INTERVAL_MS: '2000',
      LOG_LEVEL: 'info',
    },
    { loadMapping },
  )
  await mkdir(`${root}.cache`, { recursive: true })
  const logPath = `${root}.cache/demo-bridge.log`
  const { createWriteStream } = await import('node:fs')
  const logStream = createWriteStream(logPath)
  const bridge = await startBridge(config, {
    logger: createLogger({ level: 'info', destination: logStream }),
  })
  stops.push(['bridge', () => bridge.stop()])
  const metricsUrl = `http://127.0.0.1:${bridge.ports.metrics}/metrics`
  out(`demo: bridge running; metrics at ${metricsUrl}, logs in ${logPath}`)
  // The morning questions of a migration (README "Running a migration"), for this run's topics and group.
  const names = `--group demo-${runId} --topic ${topics.input}`
  out(
    `demo: how far, when done: npm run status -- ${names} --result-topic ${topics.result} --dlq-topic ${topics.dlq}`,
  )
  out(`demo: what failed, and why: npm run consume -- ${topics.result} --state FAILED`)
  const opsUrl = `http://127.0.0.1:${bridge.ports.metrics}`
  out(`demo: status page: ${opsUrl}/admin/ (admin token ${adminToken})`)
  out(
    `demo: pause, jobs, where, resume: export ADMIN_TOKEN=${adminToken}; npm run admin -- pause --reason "maintenance" --url ${opsUrl}`,
  )
  // The bridge stops when the demo ends, and so does a stack the demo started.
  out(
    ownStack
      ? 'demo: these work while the demo runs; it then stops the bridge and the stack it started (to read its topics afterwards with status and consume, start the stack first: see the README)'
      : 'demo: the status page and admin commands work while the demo runs (the bridge stops with it); status and consume work afterwards on your stack',
  )

  // 4. The legacy export: real files, broken URLs, repeated ids; and one record no one can decode.
  const codec = createSchemaCodec({ url: registryUrl })
  const results = await startTopicReader(kafka, topics.result, resultDecoder(codec))
  stops.push(['result reader', () => results.stop()])
  const dlq = await startTopicReader(kafka, topics.dlq, (v) => v)
  stops.push(['dlq reader', () => dlq.stop()])
  const { records } = buildSampleExport({
    files,
    baseUrl: fileServer.url,
    systemName: 'legacy-archive',
    idPrefix: `demo-${runId}`,
    broken: Number(opts.broken),
    repeats: Number(opts.repeats),
    unreachableUrl: 'http://127.0.0.1:9',
  })
  const exportPath = `${root}.cache/demo-export.ndjson`
  await writeFile(exportPath, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`)
  const producedAt = Date.now()
  await produceExport({
    records,
    topic: topics.input,
    brokers: brokers.split(','),
    schemaRegistryUrl: registryUrl,
    format: 'avro',
  })
  const poison = createIdempotentProducer(kafka)
  await poison.start()
  await poison.send(topics.input, [{ key: 'poison', value: Buffer.from('not an event') }])
  await poison.stop()
  const produced = records.length + 1
  out(`demo: produced ${records.length} file-created events from ${exportPath} and 1 undecodable record`)

  // 5. Wait for a result (or DLQ record) per produced record.
  const timeoutMs = Number(opts['timeout-ms'])
  try {
    await results.waitFor((r) => r.length + dlq.records.length >= produced, timeoutMs, 'every result')
  } catch (err) {
    out(`demo: ${(err as Error).message}`)
  }
  const elapsedMs = Date.now() - producedAt
  const metricsText = await (await fetch(metricsUrl)).text()
  await writeFile(`${root}.cache/demo-metrics.prom`, metricsText)

  // 6. Summary.
  const counts = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
  const byKind = { FILE: { ...counts }, IMAGE: { ...counts }, VIDEO: { ...counts } }
  const latencies: number[] = []
  for (const { value } of results.records) {
    counts[value.state]++
    byKind[value.kind][value.state]++
    latencies.push(value.completedAt - producedAt)
  }
  const kindTotal = (kind: keyof typeof byKind) => Object.values(byKind[kind]).reduce((a, b) => a + b, 0)
  latencies.sort((a, b) => a - b)
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0
  const metric = (name: string) =>
    metricsText
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
  const stats = emulator.stats()
  const received = results.records.length + dlq.records.length
  out('')
  out('  state      files  (file  image  video import)')
  for (const [state, n] of Object.entries(counts)) {
    const per = (['FILE', 'IMAGE', 'VIDEO'] as const).map((k) => byKind[k][state as keyof typeof counts])
    out(
      `  ${state.padEnd(10)} ${String(n).padStart(5)}  (${per.map((c, i) => String(c).padStart([4, 6, 6][i] as number)).join(' ')})`,
    )
  }
  out(
    `  DLQ        ${String(dlq.records.length).padStart(5)}  (${dlq.records.map((r) => r.headers['dlq.reason']).join(', ')})`,
  )
  out('')
  out(
    `  results in ${(elapsedMs / 1000).toFixed(1)} s; latency from produce to result p50 ${pct(50)} ms, p99 ${pct(99)} ms`,
  )
  out(
    `  batches submitted ${metric('bridge_batches_submitted_total')}, API calls ${metric('bridge_api_requests_total')} (emulator saw POST /import/files ${stats.requestTotals['POST /import/files'] ?? 0}, /images ${stats.requestTotals['POST /import/images'] ?? 0}, /videos ${stats.requestTotals['POST /import/videos'] ?? 0}; status reads ${['files', 'images', 'videos'].reduce((n, k) => n + (stats.requestTotals[`GET /import/${k}/status`] ?? 0), 0)}), webhooks ${metric('bridge_webhooks_received_total')}`,
  )
  out(`  metrics were served at ${metricsUrl}; a snapshot is in .cache/demo-metrics.prom`)
  out('')
  const missing = produced - received
  return {
    code: missing <= 0 ? 0 : 1,
    line: `demo: produced=${produced} results=${results.records.length} SUCCESS=${counts.SUCCESS} SKIPPED=${counts.SKIPPED} FAILED=${counts.FAILED} dlq=${dlq.records.length} missing=${Math.max(0, missing)} files=${kindTotal('FILE')} images=${kindTotal('IMAGE')} videos=${kindTotal('VIDEO')}`,
  }
}

process.exitCode = await main()
