import { conversationSuite } from './conversation.ts'
import { wsPair } from './transports.ts'

conversationSuite('WebSocket (ws) 127.0.0.1', (options) => wsPair(options), false)
