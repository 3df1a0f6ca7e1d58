import { conversationSuite } from './conversation.ts'
import { tcpPair } from './transports.ts'

let seed = 1
conversationSuite('TCP 127.0.0.1 with chunk chaos', (options) => tcpPair(options, seed++), false)
