/**
 * The feed demo: two authors write to one chain, the chain travels as bytes, the receiver
 * verifies every signature and link, and both print the same feed.
 */
import { activeEd25519, Feed, signPair, toHex } from '@picostack/feed'

const alice = signPair()
const bob = signPair()

const feed = new Feed()
feed.append('hello from alice', alice.sk)
feed.append('hello back from bob', bob.sk)
feed.append(new TextEncoder().encode('bytes work too'), alice.sk)

const wire = feed.buffer // what a peer would send: "PIC0" + blocks
const received = Feed.from(wire) // verifies every signature and parent link

console.log(received.inspect())
console.log()
console.log(`alice ${alice.pk}`)
console.log(`bob   ${bob.pk}`)
console.log(
  `${wire.length} bytes on the wire, ${received.length} blocks, crypto: ${activeEd25519().name}`,
)
console.log(`head ${toHex(received.last!.sig).slice(0, 32)}…`)
console.log(`diff with the sender: ${received.diff(feed)} (0 = in sync)`)
