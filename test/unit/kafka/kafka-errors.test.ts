// One rule for every kafkajs failure: a broker hiccup (retry), a record too large, or unrecoverable.
import { describe, expect, it } from 'vitest'
import { RESTART_ONLY_AFTER_HICCUPS } from '../../../src/kafka/consumer-crashes.ts'
import { isBrokerHiccup, isRecordTooLarge, isUnrecoverable } from '../../../src/kafka/kafka-errors.ts'

/** An error shaped as kafkajs makes them (tulios/kafkajs src/errors.js). */
function kafkajs(name: string, fields: { retriable?: boolean; type?: string; cause?: unknown } = {}) {
  return Object.assign(new Error(name), { name, retriable: true, ...fields })
}
const retriesExceeded = (cause: unknown) =>
  kafkajs('KafkaJSNumberOfRetriesExceeded', { retriable: false, cause })

describe('kafka errors', () => {
  it.each([
    ['connection refused', kafkajs('KafkaJSConnectionError'), true, false, false],
    [
      'retries exceeded on a timeout',
      retriesExceeded(kafkajs('KafkaJSRequestTimeoutError')),
      true,
      false,
      false,
    ],
    [
      'a retriable broker answer',
      kafkajs('KafkaJSProtocolError', { type: 'NOT_LEADER_OR_FOLLOWER' }),
      true,
      false,
      false,
    ],
    [
      'message too large',
      kafkajs('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE', retriable: false }),
      false,
      true,
      false,
    ],
    [
      'a record list too large inside an aggregate',
      Object.assign(new Error('aggregate'), {
        name: 'KafkaJSAggregateError',
        errors: [kafkajs('KafkaJSProtocolError', { type: 'RECORD_LIST_TOO_LARGE', retriable: false })],
      }),
      false,
      true,
      false,
    ],
    [
      'topic authorization failed (our configuration: hold)',
      kafkajs('KafkaJSProtocolError', { type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false }),
      false,
      false,
      false,
    ],
    ['a codec kafkajs lacks', kafkajs('KafkaJSNotImplemented', { retriable: false }), false, false, true],
    [
      'a producer fenced for good',
      kafkajs('KafkaJSProtocolError', { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', retriable: false }),
      false,
      false,
      true,
    ],
    [
      'a bug in a handler, retried to exhaustion',
      retriesExceeded(new TypeError('x is undefined')),
      false,
      false,
      true,
    ],
  ])('%s', (_what, err, hiccup, tooLarge, unrecoverable) => {
    expect(isBrokerHiccup(err)).toBe(hiccup)
    expect(isRecordTooLarge(err)).toBe(tooLarge)
    expect(isUnrecoverable(err)).toBe(unrecoverable)
  })

  it('kafkajs restarts a crashed consumer only after a broker hiccup', async () => {
    const restart = RESTART_ONLY_AFTER_HICCUPS.restartOnFailure
    expect(await restart(retriesExceeded(kafkajs('KafkaJSConnectionClosedError')))).toBe(true)
    // A fetch the client cannot parse, or a pipeline bug, would crash again on the same record.
    expect(await restart(retriesExceeded(new RangeError('offset out of range')))).toBe(false)
    expect(await restart(retriesExceeded(kafkajs('KafkaJSInvalidVarIntError', { retriable: false })))).toBe(
      false,
    )
  })
})
