// The dry run, `npm run map`, as a user runs it: from an export file, and from a topic through the
// registry without touching any consumer group's offsets.
import { describe, expect, inject, it } from 'vitest'
import { createKafka } from '../../src/kafka/client.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { createLogger } from '../../src/logging.ts'
import { createSchemaCodec } from '../../src/registry/registry.ts'
import { uniqueTopics } from '../support/bridge-harness.ts'
import { readCommitted } from '../support/e2e-world.ts'
import { DAM_SCHEMA, readmeMappingExample, tempFile } from '../support/mapping-example.ts'
import { runScript } from '../support/run-script.ts'
import { testProducer } from '../support/test-producer.ts'

describe('npm run map (dry run)', () => {
  const { brokers, schemaRegistryUrl } = inject('kafka')
  const kafka = createKafka(
    { brokers, clientId: 'map-cli-test' },
    { logger: createLogger({ level: 'fatal' }) },
  )
  const example = readmeMappingExample()

  const map = (...args: string[]) => runScript('scripts/map.ts', args, { timeoutMs: 90_000 })

  it('prints the example of docs/mapping.md from an export file and exits 0; exits 78 naming a broken field', () => {
    const mapping = tempFile('dam-mapping.yaml', example.mapping)
    const ok = map('--mapping', mapping, tempFile('dam.ndjson', `${example.input}\n`))
    expect(ok.status).toBe(0)
    expect(ok.stdout.replace(/"at": ".*dam\.ndjson:1"/, '"at": "dam.ndjson:1"').trim()).toBe(example.output)

    const broken = map('--mapping', tempFile('m.yaml', 'externalId: a.(\nurl: u\nfileName: f\n'), mapping)
    expect(broken.status).toBe(78)
    expect(broken.stderr).toContain('externalId: syntax error at line 1, column 3 of its expression')
  })

  it('reads a topic from the beginning through the registry, reports each record, commits nothing', async () => {
    // Given a topic with an Avro event of a legacy schema, an event of another type and a broken one
    const { input: topic, group } = uniqueTopics('map-cli')
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }])
    const codec = createSchemaCodec({ url: schemaRegistryUrl })
    const id = await codec.register(`${topic}-value`, DAM_SCHEMA)
    const event = JSON.parse(example.input)
    const avro = await codec.encode(id, { ...event, occurredAt: Date.parse(event.occurredAt) })
    const producer = testProducer(kafka)
    await producer.connect()
    await producer.send({
      topic,
      messages: [
        { partition: 0, value: avro },
        { partition: 0, value: JSON.stringify({ eventType: 'ASSET_DELETED' }) },
        { partition: 0, value: JSON.stringify({ ...event, asset: { ...event.asset, id: 7 } }) },
      ],
    })
    await producer.disconnect()
    // And the bridge's consumer group at offset 1
    const admin = kafka.admin()
    await admin.connect()
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1' }] })

    // When the dry run reads it
    const run = map(
      '--mapping',
      tempFile('dam-mapping.yaml', example.mapping),
      '--topic',
      topic,
      '--count',
      '3',
    )

    // Then it reports each record with the bridge's outcome, and exits 1 for the one the DLQ would get
    expect(run.stderr).toBe('')
    expect(run.status).toBe(1)
    const reports = JSON.parse(`[${run.stdout.split('\nmap: ')[0]?.replace(/\n\}\n\{/g, '\n},\n{')}]`)
    expect(reports).toEqual([
      {
        at: `${topic}:0@0`,
        outcome: 'import',
        kind: 'image',
        systemName: 'dam',
        occurredAt: '2026-11-30T08:15:00.000Z',
        entry: expect.objectContaining({ id: 'A-00077', mediaType: 'image' }),
      },
      { at: `${topic}:0@1`, outcome: 'filtered', reason: 'rejected' },
      {
        at: `${topic}:0@2`,
        outcome: 'dlq',
        reason: 'MAPPING_FAILED',
        field: 'externalId',
        message: 'externalId: gave number 7, but must give a string',
      },
    ])
    expect(run.stdout.trim().split('\n').at(-1)).toBe('map: events=3 import=1 filtered=1 dlq=1')
    // And the bridge's group is where it was, and no other group holds offsets of the topic (the dry run's
    // throw-away group committed nothing; it may be gone already, so every group is asked)
    try {
      expect(await readCommitted(admin, group, topic)).toEqual(new Map([[0, 1]]))
      const { groups } = await admin.listGroups()
      const others = groups.map((g) => g.groupId).filter((g) => g !== group)
      for (const g of others) expect([...(await readCommitted(admin, g, topic)).values()]).toEqual([0])
    } finally {
      await admin.disconnect()
    }
  })
})
