import { picoWire } from '../src/index.ts'
import { conversationSuite } from './conversation.ts'

conversationSuite(
  'in-process picoWire',
  async (options) => {
    const [a, b] = picoWire(options)
    return {
      a,
      b,
      async teardown() {
        a.close()
      },
    }
  },
  true,
)
