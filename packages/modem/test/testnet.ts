/**
 * A local HyperDHT testnet on 127.0.0.1 and modems bootstrapped from it. Every modem
 * made here is checked to know no bootstrap node outside 127.0.0.1: tests never touch
 * the public HyperDHT.
 */
import type { Hub, Plug } from '@picostack/net'
import type { DHTNode } from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { expect } from 'vitest'
import { Modem56, type ModemOptions } from '../src/index.ts'

export interface Net {
  testnet: Testnet
  modems: Modem56[]
  /** A modem on the testnet (guarded), destroyed by `teardown`. */
  modem(options?: Omit<ModemOptions, 'bootstrap' | 'host'>): Modem56
  /** Destroys every modem, then the testnet (in that order). */
  teardown(): Promise<void>
}

/** Fails unless every bootstrap node of `modem`'s DHT is on 127.0.0.1. */
export function assertLocalBootstrap(modem: {
  swarm: { dht: { bootstrapNodes: DHTNode[] } }
}): void {
  const hosts = modem.swarm.dht.bootstrapNodes.map((node) => node.host)
  expect(hosts.length).toBeGreaterThan(0)
  expect(hosts.every((host) => host === '127.0.0.1')).toBe(true)
}

export async function localNet(): Promise<Net> {
  const testnet = await createTestnet(3)
  const modems: Modem56[] = []
  return {
    testnet,
    modems,
    modem(options = {}) {
      const modem = new Modem56({ ...options, bootstrap: testnet.bootstrap, host: '127.0.0.1' })
      assertLocalBootstrap(modem)
      modems.push(modem)
      return modem
    },
    async teardown() {
      for (const modem of modems) assertLocalBootstrap(modem)
      for (const modem of modems) await modem.destroy()
      await testnet.destroy()
    },
  }
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const enc = (text: string) => new TextEncoder().encode(text)
export const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** The first node of `hub` (after `until(() => hub.nodes.length > 0)`). */
export function firstNode(hub: Hub): Plug {
  const node = hub.nodes[0]
  if (!node) throw new Error('hub has no node')
  return node
}
