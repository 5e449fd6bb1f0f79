/**
 * Checks that the broker and registry handed out by test/support/global-setup.ts
 * (via inject('kafka')) work with the client libraries the bridge uses:
 * kafkajs 2.2.4 against a Kafka 4.x broker, and
 * @kafkajs/confluent-schema-registry against Apicurio's ccompat API.
 */
import { randomBytes } from 'node:crypto'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { type Admin, type Consumer, Kafka, logLevel, type Producer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const { brokers, schemaRegistryUrl } = inject('kafka')

const suffix = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`

describe('kafka broker with kafkajs', () => {
  const kafka = new Kafka({
    clientId: 'stack-test',
    brokers,
    logLevel: logLevel.WARN,
  })
  let admin: Admin
  let producer: Producer
  let consumer: Consumer | undefined

  beforeAll(async () => {
    admin = kafka.admin()
    await admin.connect()
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
  })

  afterAll(async () => {
    await consumer?.disconnect()
    await producer?.disconnect()
    await admin?.disconnect()
  })

  it('describes the cluster', async () => {
    const cluster = await admin.describeCluster()
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1)
    expect(cluster.controller).not.toBeNull()
  })

  it('creates a topic, produces idempotently, consumes in a group and commits explicitly', async () => {
    const topic = `stack-test-${suffix()}`
    const groupId = `stack-test-group-${suffix()}`
    const partition = 1

    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    expect(created).toBe(true)
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(metadata.topics[0]?.partitions).toHaveLength(2)

    const values = ['a', 'b', 'c', 'd', 'e']
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ key: `k${i}`, value, partition })),
    })
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({ topicName: topic, partition, errorCode: 0 })
    expect(sent[0]?.baseOffset).toBe('0')

    const c = kafka.consumer({ groupId, maxWaitTimeInMs: 200 })
    consumer = c
    await c.connect()
    await c.subscribe({ topics: [topic], fromBeginning: true })

    const received: { partition: number; offset: string; key: string; value: string }[] = []
    let committedOffset: string | undefined
    const done = new Promise<void>((resolve, reject) => {
      c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          try {
            for (const message of batch.messages) {
              received.push({
                partition: batch.partition,
                offset: message.offset,
                key: message.key?.toString() ?? '',
                value: message.value?.toString() ?? '',
              })
              resolveOffset(message.offset)
            }
            await heartbeat()
            if (received.length >= values.length && committedOffset === undefined) {
              const last = received[received.length - 1]
              if (!last) throw new Error('no message')
              committedOffset = (BigInt(last.offset) + 1n).toString()
              await c.commitOffsets([{ topic, partition: batch.partition, offset: committedOffset }])
              resolve()
            }
          } catch (error) {
            reject(error)
          }
        },
      }).catch(reject)
    })
    await withTimeout(done, 60_000, 'consuming the produced messages')

    expect(received.map((m) => m.value)).toEqual(values)
    expect(received.map((m) => m.key)).toEqual(values.map((_, i) => `k${i}`))
    expect(received.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4'])
    expect(new Set(received.map((m) => m.partition))).toEqual(new Set([partition]))
    expect(committedOffset).toBe('5')

    await c.stop()
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
    expect(offsets).toHaveLength(1)
    const byPartition = new Map(offsets[0]?.partitions.map((p) => [p.partition, p.offset]))
    expect(byPartition.get(partition)).toBe(committedOffset)
    // Nothing was committed for the other partition.
    expect(byPartition.get(0)).toBe('-1')

    await c.disconnect()
    consumer = undefined
    await admin.deleteTopics({ topics: [topic] })
  })
})

describe('schema registry with @kafkajs/confluent-schema-registry', () => {
  const registry = new SchemaRegistry({ host: schemaRegistryUrl })

  const fileSchema = {
    type: 'record',
    name: 'FileAnnounced',
    namespace: 'test.stack',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'size', type: 'long' },
    ],
  }
  const resultSchema = {
    type: 'record',
    name: 'ImportResult',
    namespace: 'test.stack',
    fields: [
      { name: 'fileId', type: 'string' },
      { name: 'ok', type: 'boolean' },
      { name: 'error', type: ['null', 'string'], default: null },
    ],
  }

  it('registers, encodes with the Confluent wire format and decodes', async () => {
    const subject = `stack-test-${suffix()}-value`
    const schema = { type: SchemaType.AVRO as const, schema: JSON.stringify(fileSchema) }
    const { id } = await registry.register(schema, { subject })
    expect(Number.isInteger(id)).toBe(true)
    expect(id).toBeGreaterThan(0)

    const payload = { id: 'file-1', size: 1234 }
    const buffer = await registry.encode(id, payload)
    expect(buffer[0]).toBe(0)
    expect(buffer.readInt32BE(1)).toBe(id)
    expect(await registry.decode(buffer)).toEqual(payload)

    expect(await registry.getLatestSchemaId(subject)).toBe(id)

    // Same schema, same subject: same id, no new version.
    expect((await registry.register(schema, { subject })).id).toBe(id)
    expect(await registry.getLatestSchemaId(subject)).toBe(id)
  })

  it('gives different schemas different ids, each decoding with its own schema', async () => {
    const fileSubject = `stack-test-${suffix()}-value`
    const resultSubject = `stack-test-${suffix()}-value`
    // Distinct doc per run, so a registry that outlives this run cannot hand
    // back an id from an earlier run.
    const doc = `run ${suffix()}`
    const fileId = (
      await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify({ ...fileSchema, doc }) },
        { subject: fileSubject },
      )
    ).id
    const resultId = (
      await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify({ ...resultSchema, doc }) },
        { subject: resultSubject },
      )
    ).id
    expect(resultId).not.toBe(fileId)
    expect(await registry.getLatestSchemaId(fileSubject)).toBe(fileId)
    expect(await registry.getLatestSchemaId(resultSubject)).toBe(resultId)

    const file = { id: 'file-2', size: 99 }
    const result = { fileId: 'file-2', ok: false, error: 'boom' }
    const fileBuffer = await registry.encode(fileId, file)
    const resultBuffer = await registry.encode(resultId, result)
    expect(fileBuffer.readInt32BE(1)).toBe(fileId)
    expect(resultBuffer.readInt32BE(1)).toBe(resultId)
    expect(await registry.decode(fileBuffer)).toEqual(file)
    expect(await registry.decode(resultBuffer)).toEqual(result)
    // Encoding with the wrong schema's id fails instead of producing garbage.
    await expect(registry.encode(resultId, file)).rejects.toThrow()

    // The id names the schema content (Apicurio contentId, Confluent
    // semantics): the same schema under another subject gets the same id.
    const otherSubject = `stack-test-${suffix()}-value`
    const again = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ ...fileSchema, doc }) },
      { subject: otherSubject },
    )
    expect(again.id).toBe(fileId)
  })
})

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
