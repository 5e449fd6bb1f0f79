/**
 * The admin API of every replica, merged (docs/admin.md):
 *
 *   npm run admin -- pause --reason "Livingdocs upgrade" --url http://10.0.0.7:9464 --url http://10.0.0.8:9464
 *   npm run admin -- resume --reason "upgrade done" --dns file-import-bridge-admin
 *   npm run admin -- jobs --dns file-import-bridge-admin          # every job in flight, oldest first
 *   npm run admin -- where legacy-archive img-0042 --dns ...     # where that file is now
 *   npm run admin -- status --dns ...                            # each replica: pause, holds, partitions
 *
 * The token comes from --token-file, ADMIN_TOKEN_FILE or ADMIN_TOKEN (never from the command line).
 */
import { parseArgs } from 'node:util'
import {
  askAll,
  findReplicas,
  jobLines,
  mergeJobs,
  mergePlaces,
  placeLines,
  type ReplicaStatus,
  readToken,
} from './admin-replicas.ts'
import { readCommandLine, runTool, UserMistake } from './cli.ts'

const usage = `usage: npm run admin -- <command> [options]

Asks every replica's admin API (on its operations port) and merges the answers.

commands:
  status                        each replica: partitions, pause, holds, files and jobs in flight
  jobs                          every import job in flight over all replicas, oldest first
  where <systemName> <externalId>
                                where that file is now (waiting, batched, in which job) on any replica
  pause --reason TEXT           pause fetching and submitting on every replica (the whole consumer group)
  resume --reason TEXT          resume every replica

options:
  --url URL        a replica's operations URL, e.g. http://10.0.0.7:9464 (repeatable)
  --dns NAME       or every address of NAME (the chart's headless <release>-admin Service)
  --port N         the operations port with --dns (default: $METRICS_PORT, else 9464)
  --token-file F   the admin token's file (default: $ADMIN_TOKEN_FILE, else $ADMIN_TOKEN)
  --reason TEXT    why (pause, resume): shown by every replica and kept in Kafka
  --json           the merged answer as JSON
  -h, --help       this help

exit codes: 0 done, 1 a replica failed or the file was found nowhere, 2 usage error`

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', multiple: true, default: [] },
      dns: { type: 'string' },
      port: { type: 'string', default: process.env.METRICS_PORT ?? '9464' },
      'token-file': { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

/** Runs one command; `out` takes the output lines. @returns the exit code */
export async function runAdmin(out: (line: string) => void): Promise<number> {
  const parsed = readCommandLine('admin', usage, parse)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UserMistake(`--port must be a port number\n${usage}`, 2)
  const replicas = await findReplicas({ urls: values.url, dns: values.dns, port })
  const token = await readToken(values['token-file'])
  const print = (json: unknown, lines: string[]) => {
    if (values.json) out(JSON.stringify(json, null, 2))
    else for (const l of lines) out(l)
  }
  const report = (failed: string[]) => {
    for (const f of failed) process.stderr.write(`admin: no answer from ${f}\n`)
    return failed.length === 0 ? 0 : 1
  }
  switch (command) {
    case 'status': {
      const answers = await askAll<ReplicaStatus>(replicas, token, 'status')
      const { failed } = mergeJobs(answers)
      const ok = answers.flatMap((a) => ('error' in a || a.status !== 200 ? [] : [a]))
      print(
        ok.map((a) => ({ replica: a.replica.url, ...a.body })),
        ok.map(
          (a) =>
            `${a.replica.url}: ${a.body.pause.paused ? `PAUSED (${a.body.pause.reason})` : 'running'}; partitions ${a.body.partitions.join(',') || 'none'}; ${a.body.filesInFlight} files in flight; ${a.body.jobs.length} jobs; ${a.body.batchesQueued} batches queued${a.body.holds.length > 0 ? `; holds: ${a.body.holds.join('; ')}` : ''}`,
        ),
      )
      return report(failed)
    }
    case 'jobs': {
      const { jobs, failed } = mergeJobs(await askAll<ReplicaStatus>(replicas, token, 'status'))
      print(jobs, [
        ...jobLines(jobs),
        `${jobs.length} jobs in flight on ${replicas.length - failed.length} of ${replicas.length} replicas`,
      ])
      return report(failed)
    }
    case 'where': {
      const [systemName, externalId] = rest
      if (systemName === undefined || externalId === undefined)
        throw new UserMistake(`where needs <systemName> <externalId>\n${usage}`, 2)
      const path = `files/${encodeURIComponent(systemName)}/${encodeURIComponent(externalId)}`
      const { places, failed } = mergePlaces(await askAll(replicas, token, path))
      const nowhere = `${systemName}/${externalId}: held by none of ${replicas.length} replicas (not consumed yet, or done: its result is on the result topic)`
      print(places, places.length === 0 ? [nowhere] : placeLines(places))
      return Math.max(report(failed), places.length === 0 ? 1 : 0)
    }
    case 'pause':
    case 'resume': {
      if (values.reason === undefined || values.reason.trim() === '')
        throw new UserMistake(`${command} needs --reason TEXT\n${usage}`, 2)
      // One replica writes the control topic; every replica reads it. Ask the first that answers.
      const paused = command === 'pause'
      let done: { replica: string; state: unknown } | undefined
      const failed: string[] = []
      for (const replica of replicas) {
        const [answer] = await askAll([replica], token, command, {
          method: 'POST',
          body: { reason: values.reason },
          timeoutMs: 30_000,
        })
        if (answer !== undefined && !('error' in answer) && answer.status === 200) {
          done = { replica: replica.url, state: answer.body }
          break
        }
        failed.push(
          `${replica.url}: ${answer === undefined || 'error' in answer ? answer?.error : `HTTP ${answer.status}`}`,
        )
      }
      if (done === undefined) return report(failed)
      // Then until every replica says so (each reads the control topic within a second or two).
      const deadline = Date.now() + 30_000
      let states: Array<{ replica: string; paused: boolean | null }> = []
      for (;;) {
        const answers = await askAll<ReplicaStatus>(replicas, token, 'status')
        states = answers.map((a) => ({
          replica: a.replica.url,
          paused: 'error' in a || a.status !== 200 ? null : a.body.pause.paused,
        }))
        if (states.every((s) => s.paused === paused) || Date.now() > deadline) break
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      const agreeing = states.filter((s) => s.paused === paused).length
      print({ asked: done.replica, state: done.state, replicas: states }, [
        ...states.map(
          (s) => `${s.replica}: ${s.paused === null ? 'no answer' : s.paused ? 'paused' : 'running'}`,
        ),
        `${command}d through ${done.replica}: ${agreeing} of ${replicas.length} replicas ${paused ? 'paused' : 'running'}`,
      ])
      return agreeing === replicas.length ? 0 : 1
    }
    default:
      throw new UserMistake(
        `${command === undefined ? 'a command is needed' : `unknown command ${command}`}\n${usage}`,
        2,
      )
  }
}

if (import.meta.main)
  process.exitCode = await runTool('admin', () => runAdmin((line) => process.stdout.write(`${line}\n`)))
