import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createKafka } from '../../src/kafka/client.ts'
import { createLogger } from '../../src/logging.ts'
import { createSchemaCodec } from '../../src/registry/registry.ts'
import { uniqueTopics } from '../support/bridge-harness.ts'
import { startTopicReader } from '../support/result-reader.ts'
import { runScript } from '../support/run-script.ts'

/** `npm run produce -- export.ndjson`: the legacy export onto the input topic, Avro through the registry. */
describe('produce and consume CLIs', () => {
  const { brokers, schemaRegistryUrl } = inject('kafka')
  const kafka = createKafka(
    { brokers, clientId: 'produce-test' },
    { logger: createLogger({ level: 'fatal' }) },
  )
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fib-produce-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const run = (script: string, ...args: string[]) => runScript(script, args)

  const produce = (file: string, topic: string, ...extra: string[]) =>
    run('scripts/produce.ts', file, '--topic', topic, ...extra)

  it('produces every line as an Avro event keyed by externalId, and nothing when a line is invalid', async () => {
    // Given an export with two valid lines and one without a url
    const { input: topic } = uniqueTopics('produce')
    const good = [
      {
        externalId: 'a-1',
        url: 'https://example.com/a.pdf',
        fileName: 'A',
        metadata: { title: 'A' },
        occurredAt: '2024-01-01T00:00:00Z',
      },
      {
        externalId: 'b-2',
        url: 'https://example.com/b.png',
        fileName: 'B',
        systemName: 'archive',
        occurredAt: 1700000000000,
      },
    ]
    const bad = `${JSON.stringify(good[0])}\n{"externalId":"c-3","fileName":"C"}\n`
    await writeFile(join(dir, 'bad.ndjson'), bad)
    await writeFile(join(dir, 'good.ndjson'), `${good.map((g) => JSON.stringify(g)).join('\n')}\n\n`)

    // When the invalid export is produced, then it fails naming the line and produces nothing
    const failed = produce(join(dir, 'bad.ndjson'), topic)
    expect(failed.status).toBe(1)
    expect(failed.stderr).toMatch(/:2: url/)
    // When the topic does not exist, then it says so, and creates it only when asked to
    const missing = produce(join(dir, 'good.ndjson'), topic)
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(`produce: topic ${topic} does not exist`)
    // When the valid export is produced, creating the topic
    const done = produce(join(dir, 'good.ndjson'), topic, '--create-topic')
    expect(done.stderr).not.toMatch(/^produce:/m)
    expect(done.status).toBe(0)
    expect(done.stdout).toMatch(/produce: 2 events/)

    // Then the topic holds exactly the two events, in the Confluent wire format, keyed by externalId
    const codec = createSchemaCodec({ url: schemaRegistryUrl })
    const reader = await startTopicReader(kafka, topic, (v) => codec.decode(v as Buffer))
    try {
      await reader.waitFor((r) => r.length >= 2, 30_000, 'two events')
      await new Promise((r) => setTimeout(r, 500))
      const records = [...reader.records].sort((x, y) => String(x.key).localeCompare(String(y.key)))
      expect(records.map((r) => r.key)).toEqual(['a-1', 'b-2'])
      expect(records.every((r) => r.raw?.[0] === 0)).toBe(true)
      expect(records.map((r) => r.value)).toEqual([
        {
          externalId: 'a-1',
          url: 'https://example.com/a.pdf',
          fileName: 'A',
          mediaType: 'file',
          metadata: '{"title":"A"}',
          systemName: null,
          mimeType: null,
          occurredAt: Date.parse('2024-01-01T00:00:00Z'),
          checksum: null,
        },
        {
          externalId: 'b-2',
          url: 'https://example.com/b.png',
          fileName: 'B',
          mediaType: 'file',
          metadata: '{}',
          systemName: 'archive',
          mimeType: null,
          occurredAt: 1700000000000,
          checksum: null,
        },
      ])
    } finally {
      await reader.stop()
    }

    // And `npm run consume` prints them as JSON lines, decoded through the registry
    const consumed = run('scripts/consume.ts', topic, '--idle-ms', '1500')
    expect(consumed.status).toBe(0)
    const lines = consumed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; value: { externalId: string; metadata: string } })
    expect(lines.map((l) => l.key).sort()).toEqual(['a-1', 'b-2'])
    expect(lines.find((l) => l.key === 'a-1')?.value).toMatchObject({
      externalId: 'a-1',
      metadata: '{"title":"A"}',
    })
    expect(consumed.stderr).toMatch(/consume: 2 records/)
  })
})
