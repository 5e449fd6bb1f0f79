// kafkaCause: the few words that say why a Kafka call failed.

import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { kafkaCause } from '../../../src/kafka/client.ts'

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = kafkajs

describe('kafkaCause', () => {
  it('names the innermost cause of a retry error, without the connection error prefix', () => {
    // Given kafkajs' retry error wrapping a connection error that wraps the socket's
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    const connection = Object.assign(new KafkaJSConnectionError(`Connection error: ${socket.message}`), {
      cause: socket,
    })
    const retries = new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 0, retryTime: 300 })
    expect(retries.cause).toBe(connection)

    // Then the socket's words are told
    expect(kafkaCause(retries)).toBe('connect ECONNREFUSED 127.0.0.1:1')
    // And a connection error without a cause is told without its prefix
    expect(kafkaCause(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:2'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:2',
    )
  })

  it('tells a value without a message as text', () => {
    expect(kafkaCause('down')).toBe('down')
    expect(kafkaCause(undefined)).toBe('undefined')
  })
})
