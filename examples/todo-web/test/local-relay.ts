/** The relay the Chromium tests of the web pages (todo-web's and todo-react's) sync through. */
import { type Relay, startRelay } from '@picostack/relay'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'

/**
 * A new local HyperDHT testnet (3 nodes, 127.0.0.1) and a relay on it for `topic`, its
 * WebSocket on 127.0.0.1 at a free port; the testnet is destroyed again if the relay fails
 * to start.
 */
export async function localRelay(topic: string): Promise<{ testnet: Testnet; relay: Relay }> {
  const testnet = await createTestnet(3)
  try {
    const relay = await startRelay({
      topic,
      port: 0,
      host: '127.0.0.1',
      bootstrap: testnet.bootstrap,
    })
    return { testnet, relay }
  } catch (err) {
    await testnet.destroy()
    throw err
  }
}
