// src/kernel.ts
import { SimpleKernel } from '@picostack/kernel'

/** One chat message, as every peer computes it. */
export interface Message {
  author: string // the first 8 hex characters of the author's public key
  text: string
  date: number // ms since the epoch, from the author's clock
}

const HOUR_MS = 60 * 60 * 1000

export class Chat extends SimpleKernel {
  #messages = this.store.register<Message[]>({
    name: 'messages',
    initialValue: [],
    // Input consensus: which blocks are valid messages. Falsy = accept,
    // true = not mine (another slice's block), a string = reject with that reason.
    filter({ type, payload }) {
      if (type !== 'message') return true
      const { text } = payload as { text?: unknown }
      if (typeof text !== 'string' || text.length === 0 || text.length > 280) return 'BadText'
      return false
    },
    // Output consensus: the next state, a pure function of the state and the block.
    // Sorting makes the result independent of the order blocks arrive in.
    reducer({ state, payload, AUTHOR, date }) {
      const message = { author: AUTHOR.slice(0, 8), text: (payload as Message).text, date }
      return [...state, message].sort((a, b) => a.date - b.date || (a.text < b.text ? -1 : 1))
    },
    // Forgetting: an hour after it was written, a message leaves every peer's state,
    // and its block leaves the disk.
    expiresAt: ({ date }) => date + HOUR_MS,
  })

  /** The live messages, oldest first. */
  get messages(): Message[] {
    return this.#messages.state
  }

  /** Signs a message block, applies it here, and sends it to every connected peer. */
  async say(text: string): Promise<void> {
    await this.createBlock('message', { text })
  }
}

/** Resolves once `check()` is true (sync runs in the background). */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10))
}
