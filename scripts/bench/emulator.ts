/**
 * The Livingdocs emulator as a process of its own for the benchmark, so its CPU is not the bridge's.
 * File downloads are skipped (option `skipDownloads`): the bench measures the bridge, not a file server.
 *
 *   node scripts/bench/emulator.ts --token T [--job-duration-ms 2000] [--rate-limit-rps 10] [--media-types JSON]
 *
 * Prints `{"event":"listening","url","apiVersion"}`; on SIGUSR2 prints `{"event":"stats",...}` (request
 * counts so far); on SIGTERM prints the stats once more and exits.
 */
import { parseArgs } from 'node:util'
import { startLivingdocsEmulator } from '../../test/support/livingdocs-emulator/index.ts'

const { values } = parseArgs({
  options: {
    token: { type: 'string', default: 'bench-token' },
    'job-duration-ms': { type: 'string', default: '0' },
    'rate-limit-rps': { type: 'string' },
    // The project config's mediaTypes, e.g. '{"file":{},"image":{}}' (default: `file` only).
    'media-types': { type: 'string' },
  },
})
const emit = (obj: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(obj)}\n`)

const emulator = await startLivingdocsEmulator({
  token: values.token,
  jobDurationMs: Number(values['job-duration-ms']),
  skipDownloads: true,
  fileConcurrency: 64,
  // One file type without metadata rules: the bench's metadata (a nested `source`, tags) is not what the
  // default project config's li-text properties take, and the bench measures the bridge, not validation.
  mediaTypes: [{ handle: 'file', type: 'mediaFile', metadata: [] }],
  ...(values['rate-limit-rps'] === undefined ? {} : { rateLimitPerSecond: Number(values['rate-limit-rps']) }),
  ...(values['media-types'] === undefined ? {} : { mediaTypes: JSON.parse(values['media-types']) }),
})
const stats = () => {
  const s = emulator.stats()
  return {
    event: 'stats',
    requests: s.requests,
    requestTotals: s.requestTotals,
    jobsCreated: s.jobsCreated,
    jobsFinished: s.jobsFinished,
    filesProcessed: s.filesProcessed,
    webhooksSent: s.webhooksSent,
  }
}
emit({ event: 'listening', url: emulator.url, apiVersion: emulator.apiVersion })
process.on('SIGUSR2', () => emit(stats()))
process.once('SIGTERM', () => {
  emit(stats())
  void emulator.close().finally(() => process.exit(0))
})
