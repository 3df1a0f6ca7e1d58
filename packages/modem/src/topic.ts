import { createHash } from 'node:crypto'
import { ModemError } from './errors.ts'

/** Bytes in a hyperswarm topic. */
export const TOPIC_BYTES = 32

/**
 * A hyperswarm topic as 32 bytes: a string becomes the SHA-256 of its UTF-8 bytes, a
 * 32-byte Uint8Array (or Buffer) is used as-is (copied).
 *
 * ```ts
 * topicKey('todo') // sha256('todo'): 32 B
 * ```
 * @throws MODEM_INVALID_TOPIC when `topic` is an empty string, or bytes not 32 long, or
 * another type
 */
export function topicKey(topic: string | Uint8Array): Uint8Array {
  if (typeof topic === 'string') {
    if (topic.length === 0) throw new ModemError('MODEM_INVALID_TOPIC', 'topic is an empty string')
    return new Uint8Array(createHash('sha256').update(topic, 'utf8').digest())
  }
  if (topic instanceof Uint8Array && topic.length === TOPIC_BYTES) return new Uint8Array(topic)
  throw new ModemError(
    'MODEM_INVALID_TOPIC',
    `topic must be a string or ${TOPIC_BYTES} bytes, got ${
      topic instanceof Uint8Array ? `${topic.length} bytes` : typeof topic
    }`,
  )
}
