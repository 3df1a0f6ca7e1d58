// test/kernel.test.ts: the chat's rules, and two peers syncing in memory (`npm test`)
import { afterEach, describe, expect, it } from 'vitest'
import { Chat, until } from '../src/kernel.ts'

const open: Chat[] = []
/** A booted chat peer in memory, closed after each test. */
async function peer(): Promise<Chat> {
  const chat = new Chat()
  await chat.boot()
  open.push(chat)
  return chat
}
afterEach(async () => {
  for (const chat of open.splice(0)) await chat.close()
})

describe('Chat', () => {
  it('keeps messages in date order, by their author', async () => {
    const alice = await peer()
    await alice.say('one')
    await alice.say('two')
    expect(alice.messages.map((message) => message.text)).toEqual(['one', 'two'])
    expect(alice.messages.every((message) => message.author === alice.pk.slice(0, 8))).toBe(true)
  })

  it('refuses an empty or too long message, and stores nothing', async () => {
    const alice = await peer()
    for (const text of ['', 'x'.repeat(281)]) {
      await expect(alice.say(text)).rejects.toMatchObject({
        code: 'STORE_REJECTED',
        reason: 'BadText',
      })
    }
    expect(alice.messages).toEqual([])
  })

  it('syncs two peers both ways once their wires connect', async () => {
    const [alice, bob] = [await peer(), await peer()]
    await alice.say('hi bob')
    alice.spawnWire()(bob.spawnWire())
    await until(() => bob.messages.length === 1)
    await bob.say('hi alice')
    await until(() => alice.messages.length === 2)
    expect(bob.messages).toEqual(alice.messages)
    expect(alice.peers).toHaveLength(1)
  })
})
