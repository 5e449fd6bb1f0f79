// Issue 14 row 2: a consumer that kafkajs does not restart ends the bridge instead of leaving a zombie.
// Each consumer kind (the group consumer, the job log reader, the job notifications reader) is killed
// through kafkajs' own crash path (a KafkaJSNotImplemented from its fetch loop, as a missing codec threw),
// and the bridge says so once, fails liveness and stops. As a child process, a crash kafkajs does not
// recover from (another application's member in the consumer group) exits 70.
import kafkajs, { type Consumer, type EachBatchPayload, type EachMessagePayload } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { createKafka, type Kafka } from '../../src/kafka/client.ts'
import { createLogger } from '../../src/logging.ts'
import {
  bridgeEnv,
  createTopics,
  startBridgeIn,
  startBridgeProcessIn,
  useE2eWorld,
} from '../support/e2e-world.ts'
import { testProducer } from '../support/test-producer.ts'

const { AssignerProtocol } = kafkajs

/** The Kafka client of a bridge whose consumers of one group (by id part) fail once armed. */
function faultyKafka(brokers: string[]) {
  const real = createKafka({ brokers, clientId: 'crash-test' }, { logger: createLogger({ level: 'fatal' }) })
  const armed = { groupPart: null as string | null }
  const injected = Object.assign(new Error('injected: this consumer cannot go on'), {
    name: 'KafkaJSNotImplemented',
  })
  const kafka = new Proxy(real, {
    get(target, prop) {
      if (prop !== 'consumer') {
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (config: Parameters<Kafka['consumer']>[0]) => {
        const consumer: Consumer = target.consumer(config)
        const run = consumer.run.bind(consumer)
        const fails = () => armed.groupPart !== null && config.groupId.includes(armed.groupPart)
        consumer.run = (options) =>
          run({
            ...options,
            ...(options?.eachBatch && {
              eachBatch: async (p: EachBatchPayload) => {
                if (fails()) throw injected
                await options.eachBatch?.(p)
              },
            }),
            ...(options?.eachMessage && {
              eachMessage: async (p: EachMessagePayload) => {
                if (fails()) throw injected
                await options.eachMessage?.(p)
              },
            }),
          })
        return consumer
      }
    },
  })
  return { kafka, armed }
}

describe('a consumer that cannot go on ends the bridge', () => {
  const { world, emulator } = useE2eWorld({ images: 2, pdfs: 1 }, { emulator: { token: 'crash-token' } })

  it.each([
    { component: 'consumer', groupPart: '-bridge', topic: 'input' },
    { component: 'job log reader', groupPart: '.job-log.', topic: 'jobLog' },
    { component: 'job notifications reader', groupPart: '.job-notifications.', topic: 'notifications' },
  ] as const)(
    '$component: logged once, /healthz 503, the bridge stops',
    async ({ component, groupPart, topic }) => {
      // Given a bridge with every consumer kind running (job log on, webhooks on)
      const { topics } = await createTopics(world, 'crash')
      const jobLogTopic = `${topics.group}.job-log`
      const { kafka, armed } = faultyKafka(world.brokers)
      const env = bridgeEnv(world, emulator, topics, {
        JOB_LOG_ENABLED: 'true',
        JOB_LOG_TOPIC: jobLogTopic,
        CREATE_MISSING_TOPICS: 'true',
      })
      const bridge = await startBridgeIn(world, env, { kafka })
      const healthz = bridge.metricsUrl.replace('/metrics', '/healthz')
      expect((await fetch(healthz)).status).toBe(200)

      // When that consumer's fetch loop fails in a way kafkajs does not restart from
      armed.groupPart = groupPart
      const target = { input: topics.input, jobLog: jobLogTopic, notifications: topics.notifications }[topic]
      const producer = testProducer(world.kafka)
      await producer.connect()
      await producer.send({ topic: target, messages: [{ key: 'k', value: '{}' }] })
      await producer.disconnect()
      const crash = await bridge.bridge.crashed

      // Then the bridge names the component, fails liveness, and stops
      expect(crash.component).toBe(component)
      expect((crash.error as Error).message).toBe('injected: this consumer cannot go on')
      // (the ops server stays up while the consumers disconnect, so the probe sees the failure)
      const res = await fetch(healthz)
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ status: 'failing', problems: [`${component} stopped for good`] })
      await bridge.logs.waitFor('bridge stopped', 30_000)
      const fatal = bridge.logs.lines.filter((l) => l.level === 60)
      expect(fatal.map((l) => l.msg)).toEqual([`${component} stopped for good; stopping the bridge`])
    },
  )

  it('as a process: exits 70 after stopping, when the consumer group refuses it for good', async () => {
    // Given another application's member in the bridge's consumer group, with an assignor the bridge lacks
    const { topics } = await createTopics(world, 'crash-exit')
    const other = world.kafka.consumer({
      groupId: topics.group,
      partitionAssigners: [
        () => ({
          name: 'OtherApplicationsAssignor',
          version: 1,
          async assign({ members }) {
            return members.map((m) => ({
              memberId: m.memberId,
              memberAssignment: AssignerProtocol.MemberAssignment.encode({
                version: 1,
                assignment: {},
                userData: Buffer.alloc(0),
              }),
            }))
          },
          protocol({ topics: subscribed }) {
            return {
              name: 'OtherApplicationsAssignor',
              metadata: AssignerProtocol.MemberMetadata.encode({
                version: 1,
                topics: subscribed,
                userData: Buffer.alloc(0),
              }),
            }
          },
        }),
      ],
    })
    const joined = new Promise((resolve) => other.on(other.events.GROUP_JOIN, resolve))
    await other.connect()
    await other.subscribe({ topic: topics.input })
    await other.run({ eachMessage: async () => undefined })
    world.defer(() => other.disconnect())
    await joined

    // When the bridge starts as a process in that group
    const bridge = await startBridgeProcessIn(world, bridgeEnv(world, emulator, topics))
    const exit = await bridge.exited

    // Then the group coordinator's refusal ends it: logged once, stopped, exit code 70
    expect(exit).toEqual({ code: 70, signal: null })
    const fatal = bridge.logs.lines.filter((l) => l.level === 60)
    expect(fatal.map((l) => l.msg)).toEqual(['consumer stopped for good; stopping the bridge'])
    // Kafka's error code 23 is INCONSISTENT_GROUP_PROTOCOL (kafkajs logs its code, not its name)
    expect(fatal[0]?.err).toMatchObject({ name: 'KafkaJSProtocolError', code: 23 })
    expect(bridge.logs.lines.map((l) => l.msg)).toContain('bridge stopped')
  })
})
