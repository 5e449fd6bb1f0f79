import { describe, expect, it } from 'vitest'
import { resolveKafkaEnv } from '../../support/kafka-env.ts'

describe('resolveKafkaEnv with KAFKA_BROKERS and SCHEMA_REGISTRY_URL set', () => {
  it('calls the addresses `scripts/stack env` prints the local stack (so outage tests can run)', async () => {
    // Given the environment a shell gets from `eval "$(scripts/stack env)"`, default and custom ports
    const byDefault = await resolveKafkaEnv({
      env: { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7/' },
    })
    const custom = await resolveKafkaEnv({
      env: {
        STACK_KAFKA_PORT: '9392',
        STACK_REGISTRY_PORT: '8381',
        KAFKA_BROKERS: '127.0.0.1:9392',
        SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8381/apis/ccompat/v7',
      },
    })
    // Then both are the local stack, used as they are
    expect(byDefault).toMatchObject({ source: 'local-stack', brokers: ['127.0.0.1:9092'] })
    expect(byDefault.schemaRegistryUrl).toBe('http://127.0.0.1:8081/apis/ccompat/v7')
    expect(custom.source).toBe('local-stack')
  })

  it('calls any other address the environment', async () => {
    const other = await resolveKafkaEnv({
      env: { KAFKA_BROKERS: 'kafka:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081' },
    })
    const otherPort = await resolveKafkaEnv({
      env: { KAFKA_BROKERS: '127.0.0.1:9093', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7' },
    })
    expect(other).toMatchObject({ source: 'env', brokers: ['kafka:9092'] })
    expect(otherPort.source).toBe('env')
  })
})
