// ensureTopics: creates what is missing, then waits for leaders through the broker's retriable answers.
import { type Kafka, KafkaJSProtocolError } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { ensureTopics } from '../../../src/kafka/topics.ts'

type Metadata = {
  topics: Array<{ name: string; partitions: Array<{ partitionId: number; leader: number }> }>
}

/** A kafkajs client whose admin answers metadata requests with `answers`, one each, in order. */
function fakeKafka(existing: string[], answers: Array<Metadata | Error>) {
  const calls = { created: [] as string[], metadata: 0, disconnected: false }
  const admin = {
    connect: async () => undefined,
    disconnect: async () => {
      calls.disconnected = true
    },
    listTopics: async () => existing,
    createTopics: async ({ topics }: { topics: Array<{ topic: string }> }) => {
      calls.created.push(...topics.map((t) => t.topic))
      return true
    },
    fetchTopicMetadata: async () => {
      const answer = answers[Math.min(calls.metadata++, answers.length - 1)] as Metadata | Error
      if (answer instanceof Error) throw answer
      return answer
    },
  }
  return { kafka: { admin: () => admin } as unknown as Kafka, calls }
}

const led = (leader: number): Metadata => ({
  topics: [{ name: 'in', partitions: [{ partitionId: 0, leader }] }],
})
/** A broker's error answer as kafkajs makes it from the error code (src/protocol/error.js). */
const protocolError = (code: { message: string; type: string; code: number; retriable: boolean }) =>
  new KafkaJSProtocolError(code as unknown as Error)
// UNKNOWN_TOPIC_OR_PARTITION, error code 3: what a broker may answer right after a creation (retriable)
const unknownTopic = () =>
  protocolError({
    message: 'This server does not host this topic-partition',
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
    code: 3,
    retriable: true,
  })

describe('ensureTopics', () => {
  it('asks again while the new topic is unknown to the metadata or has no leader, then returns', async () => {
    const { kafka, calls } = fakeKafka(['other'], [unknownTopic(), led(-1), led(1)])
    await ensureTopics(kafka, [
      { topic: 'in', numPartitions: 1 },
      { topic: 'other', numPartitions: 1 },
    ])
    expect(calls.created).toEqual(['in'])
    expect(calls.metadata).toBe(3)
    expect(calls.disconnected).toBe(true)
  })

  it('throws a refusal that no retry changes at once', async () => {
    const refused = protocolError({
      message: 'Not authorized to access topics: [Topic authorization failed.]',
      type: 'TOPIC_AUTHORIZATION_FAILED',
      code: 29,
      retriable: false,
    })
    const { kafka, calls } = fakeKafka([], [refused, led(1)])
    await expect(ensureTopics(kafka, [{ topic: 'in', numPartitions: 1 }])).rejects.toThrow('Not authorized')
    expect(calls.metadata).toBe(1)
    expect(calls.disconnected).toBe(true)
  })

  it('asks nothing when every topic exists', async () => {
    const { kafka, calls } = fakeKafka(['in'], [led(1)])
    await ensureTopics(kafka, [{ topic: 'in', numPartitions: 1 }])
    expect(calls).toMatchObject({ created: [], metadata: 0 })
  })
})
