/**
 * The to-do app's core, shared by the CLI, the demo and (later) the web app: a kernel
 * with one `tasks` collection. Imports no Node built-in.
 */
import {
  type Block,
  bytesEqual,
  Feed,
  fromHex,
  type KernelOptions,
  Memory,
  PicoError,
  type QueryOptions,
  type QueryPage,
  type Repo,
  SimpleKernel,
  toHex,
} from '@picostack/kernel'

/** What a task can be doing. */
export const TASK_STATUSES = ['todo', 'doing', 'done'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

/** A task lives this long after its last update unless told otherwise: 24 h. */
export const DEFAULT_TASK_TTL_MS = 24 * 60 * 60 * 1000
/** Longest time to live a task may ask for: 30 days. */
export const MAX_TASK_TTL_MS = 30 * 24 * 60 * 60 * 1000
/** Longest title, in UTF-16 code units. */
export const MAX_TITLE_LENGTH = 200
/** How far ahead of our clock a block's date may be (peers' clocks drift): 60 s. */
export const MAX_CLOCK_SKEW_MS = 60_000

/** One task, as every peer computes it from the blocks of its chain. */
export interface Task {
  /** The task's chain id (= its creating block's signature), 128 hex characters. */
  id: string
  title: string
  status: TaskStatus
  /** Public key (hex) of the peer that created it. */
  owner: string
  /** Public key (hex) of the peer it is assigned to, or null. */
  assignee: string | null
  /** Date of the creating block, ms since the epoch. */
  created: number
  /** Date of the newest block, ms since the epoch. */
  updated: number
  /** The task is forgotten `ttlMs` after `updated`. */
  ttlMs: number
}

/** The payloads of `tasks` blocks. */
export type TaskOp =
  | { op: 'create'; title: string; ttlMs: number }
  | { op: 'status'; status: TaskStatus }
  | { op: 'assign'; assignee: string | null }
  | { op: 'delete' }

/** When `task` is forgotten on every peer, ms since the epoch. */
export function taskExpiresAt(task: Task): number {
  return task.updated + task.ttlMs
}

/**
 * Codes thrown by the to-do kernel (a change the task's rules refuse arrives as the
 * store's `STORE_REJECTED`, with the rule in `reason`).
 *
 * | code | meaning |
 * |---|---|
 * | `TODO_UNKNOWN_TASK` | no live task has this id (or id prefix) |
 * | `TODO_AMBIGUOUS_ID` | an id prefix matches more than one task |
 * | `TODO_INVALID_INPUT` | a title, status, ttl or key is malformed |
 */
export type TodoErrorCode = 'TODO_UNKNOWN_TASK' | 'TODO_AMBIGUOUS_ID' | 'TODO_INVALID_INPUT'

/** Error thrown by {@link TodoKernel}; see {@link TodoErrorCode}. */
export class TodoError extends PicoError<TodoErrorCode> {}

/**
 * Why a task block is refused (the `reason` of `STORE_REJECTED`), checked the same way
 * by every peer.
 */
export const REJECT = {
  notAllowed: 'only the owner or the assignee may change a task',
  notOwner: 'only the owner may delete a task',
  notGenesis: 'a task is created by the first block of its own chain',
  unknownTask: 'the task does not exist',
  badTitle: `a title is 1 to ${MAX_TITLE_LENGTH} characters`,
  badTtl: `ttlMs is a whole number of ms from 1 to ${MAX_TASK_TTL_MS}`,
  badStatus: `status is one of ${TASK_STATUSES.join(', ')}`,
  badAssignee: 'assignee is a public key (64 hex characters) or null',
  badOp: 'op is create, status, assign or delete',
  fromFuture: 'the block is dated in the future',
  older: 'the block is older than the task',
} as const

/** What `compute` receives about a block (the store's `ComputeContext`). */
type TaskContext = Parameters<Memory<Task>['compute']>[1]

const HEX_KEY = /^[0-9a-f]{64}$/

const isTitle = (title: unknown): title is string =>
  typeof title === 'string' && title.trim().length > 0 && title.length <= MAX_TITLE_LENGTH

const isTtl = (ttlMs: unknown): ttlMs is number =>
  Number.isInteger(ttlMs) && (ttlMs as number) > 0 && (ttlMs as number) <= MAX_TASK_TTL_MS

const isStatus = (status: unknown): status is TaskStatus =>
  TASK_STATUSES.includes(status as TaskStatus)

const isAssignee = (assignee: unknown): assignee is string | null =>
  assignee === null || (typeof assignee === 'string' && HEX_KEY.test(assignee))

/**
 * The `tasks` collection: one object per task chain. Its first block creates the task;
 * each later block (by the owner or the assignee) changes its status or assignee, or
 * (by the owner only) deletes it. All
 * of a task's blocks are on its own chain, so every peer applies them in the same order
 * and the whole chain leaves the disk when the task expires. Tasks live on disk (no
 * snapshot): `boot()` reads none of them, lists read a page at a time.
 */
export class Tasks extends Memory<Task> {
  override snapshot = false

  /** Listing order: creation date (ms, zero-padded so keys sort as numbers), ties by id. */
  override orders = { created: (task: Task) => String(task.created).padStart(16, '0') }

  override idOf({ CHAIN }: { CHAIN: string }): string {
    return CHAIN
  }

  compute(
    task: Task | undefined,
    ctx: TaskContext,
  ): Task | ReturnType<TaskContext['reject'] | TaskContext['delete']> {
    const { AUTHOR, date, now } = ctx
    const op = ctx.payload as TaskOp
    if (date > now + MAX_CLOCK_SKEW_MS) return ctx.reject(REJECT.fromFuture)
    if (op?.op === 'create') {
      // Only a chain's first block creates its task: not a later block, and not a block
      // whose parent we do not hold (no parentBlock either, but ctx.genesis is false).
      if (!ctx.genesis || task) return ctx.reject(REJECT.notGenesis)
      if (!isTitle(op.title)) return ctx.reject(REJECT.badTitle)
      if (!isTtl(op.ttlMs)) return ctx.reject(REJECT.badTtl)
      return {
        id: ctx.id,
        title: op.title,
        status: 'todo',
        owner: AUTHOR,
        assignee: null,
        created: date,
        updated: date,
        ttlMs: op.ttlMs,
      }
    }
    if (op?.op !== 'status' && op?.op !== 'assign' && op?.op !== 'delete') {
      return ctx.reject(REJECT.badOp)
    }
    if (!task) return ctx.reject(REJECT.unknownTask)
    if (op.op === 'delete') {
      // Every peer forgets the task; its blocks leave the disk, and a tombstone keeps it
      // gone until the time it would have expired.
      if (AUTHOR !== task.owner) return ctx.reject(REJECT.notOwner)
      return ctx.delete()
    }
    if (AUTHOR !== task.owner && AUTHOR !== task.assignee) return ctx.reject(REJECT.notAllowed)
    if (date < task.updated) return ctx.reject(REJECT.older)
    if (op.op === 'status') {
      if (!isStatus(op.status)) return ctx.reject(REJECT.badStatus)
      return { ...task, status: op.status, updated: date }
    }
    if (!isAssignee(op.assignee)) return ctx.reject(REJECT.badAssignee)
    return { ...task, assignee: op.assignee, updated: date }
  }

  override expiresAt(task: Task): number {
    return taskExpiresAt(task)
  }
}

/** Options of {@link TodoKernel}. */
export interface TodoOptions extends KernelOptions {
  /** Time to live of new tasks after their last update, ms (default 24 h). */
  taskTtlMs?: number
  /**
   * Also keep every task in memory (default false). By default tasks stay on disk behind
   * the store's bounded cache, `boot()` reads none of them whatever the list holds, and
   * lists read a page at a time (`listPage()`, `tasks.query`, `tasks.onChange`). With
   * `true`, `boot()` reads every task (its cost grows with the tasks held: a few thousand
   * at most) and `list()`, `tasks.state` and `tasks.sub(fn)` work too: for tests and
   * simulations that compare whole lists synchronously.
   */
  snapshot?: boolean
}

/**
 * A to-do list kernel: `addTask`, `setStatus`, `complete`, `assign`, `deleteTask`, `list`; sync it
 * with `spawnWire()` over any wire (hyperswarm through `@picostack/modem`, WebSocket...).
 *
 * ```ts
 * const todo = new TodoKernel('./data'); await todo.boot()
 * const id = await todo.addTask('water the plants', { ttlMs: 3_600_000 })
 * await todo.complete(id)
 * ```
 */
export class TodoKernel extends SimpleKernel {
  /** The tasks: `get(id)`, `query(q)`, `count()`, `onChange(fn)` (and with `snapshot`, `state`). */
  readonly tasks: Tasks
  /** Time to live of new tasks after their last update, ms. */
  readonly taskTtlMs: number
  /** Local task changes run one at a time (each appends to its task chain's head). */
  #writing: Promise<unknown> = Promise.resolve()

  /**
   * @param db - an abstract-level database, a directory (classic-level), or nothing (memory)
   * @throws TODO_INVALID_INPUT when `taskTtlMs` is out of range
   */
  constructor(db?: ConstructorParameters<typeof SimpleKernel>[0], options: TodoOptions = {}) {
    super(db, options)
    const { taskTtlMs = DEFAULT_TASK_TTL_MS } = options
    if (!isTtl(taskTtlMs)) throw new TodoError('TODO_INVALID_INPUT', REJECT.badTtl)
    this.taskTtlMs = taskTtlMs
    this.tasks = this.store.register(
      'tasks',
      options.snapshot === true
        ? class extends Tasks {
            override snapshot = true
          }
        : Tasks,
    )
  }

  /**
   * Creates a task on a new chain of its own.
   * @returns the task id (128 hex characters)
   * @throws TODO_INVALID_INPUT for an empty or too long title or a bad `ttlMs`
   */
  async addTask(
    title: string,
    { ttlMs = this.taskTtlMs }: { ttlMs?: number } = {},
  ): Promise<string> {
    if (!isTitle(title)) throw new TodoError('TODO_INVALID_INPUT', REJECT.badTitle)
    if (!isTtl(ttlMs)) throw new TodoError('TODO_INVALID_INPUT', REJECT.badTtl)
    const op: TaskOp = { op: 'create', title, ttlMs }
    const patch = await this.#serial(() => this.createBlock('tasks', op, new Feed()))
    return toHex(patch.last!.sig)
  }

  /**
   * Sets a task's status (owner or assignee only).
   * @param id - the task id or a unique prefix of it
   * @returns the full task id
   * @throws TODO_UNKNOWN_TASK, TODO_AMBIGUOUS_ID, TODO_INVALID_INPUT
   * @throws STORE_REJECTED (`reason` = {@link REJECT}.notAllowed) when we may not change it
   */
  setStatus(id: string, status: TaskStatus): Promise<string> {
    if (!isStatus(status)) throw new TodoError('TODO_INVALID_INPUT', REJECT.badStatus)
    return this.#change(id, { op: 'status', status })
  }

  /** `setStatus(id, 'done')`. */
  complete(id: string): Promise<string> {
    return this.setStatus(id, 'done')
  }

  /**
   * Assigns a task to a peer (its public key, hex), or unassigns it (`null`).
   * @returns the full task id
   * @throws as {@link setStatus}; TODO_INVALID_INPUT for a malformed key
   */
  assign(id: string, assignee: string | null): Promise<string> {
    if (!isAssignee(assignee)) throw new TodoError('TODO_INVALID_INPUT', REJECT.badAssignee)
    return this.#change(id, { op: 'assign', assignee })
  }

  /**
   * Deletes a task (its owner only): every peer forgets it, and its blocks leave the disk.
   * @param id - the task id or a unique prefix of it
   * @returns the full task id
   * @throws TODO_UNKNOWN_TASK, TODO_AMBIGUOUS_ID
   * @throws STORE_REJECTED (`reason` = {@link REJECT}.notOwner) when we did not create it
   */
  deleteTask(id: string): Promise<string> {
    return this.#change(id, { op: 'delete' })
  }

  /**
   * One page of live tasks, oldest first (ties by id), read from disk: `next` is the query
   * for the page after (absent at the end). `limit` defaults to 100; `reverse` gives the
   * newest first. What every list should use: it costs one page, whatever the tasks held.
   */
  listPage(query: Omit<QueryOptions, 'index'> = {}): Promise<QueryPage<Task>> {
    return this.tasks.query({ ...query, index: 'created' })
  }

  /**
   * Every live task, oldest first (ties by id), from the in-memory snapshot: only for a
   * kernel made with `snapshot: true` (tests, simulations); lists use
   * {@link TodoKernel.listPage}.
   * @throws STORE_INVALID_SLICE for a kernel without the snapshot (the default)
   */
  list(): Task[] {
    return Object.values(this.tasks.state).sort(
      (a, b) => a.created - b.created || (a.id < b.id ? -1 : 1),
    )
  }

  /**
   * Accepts appends by another author to a task chain (the assignee's changes) when they
   * extend the chain's head; refuses forks, so a chain stays one line on every peer. The
   * `tasks` rules then decide whether that author may make the change.
   */
  override async mergeStrategy(block: Block, repo: Repo): Promise<boolean> {
    if (block.genesis) return false
    const chainId = await repo.chainOf(block.psig)
    const chain = chainId && (await repo.summary(chainId))
    return !!chain && bytesEqual(chain.headId, block.psig)
  }

  async #change(idOrPrefix: string, op: TaskOp): Promise<string> {
    return this.#serial(async () => {
      const id = await this.resolveId(idOrPrefix)
      const chain = await this.repo.summary(fromHex(id))
      const head = chain && (await this.repo.readBlock(chain.headId))
      if (!head) throw new TodoError('TODO_UNKNOWN_TASK', `task ${id} left the disk`)
      await this.createBlock('tasks', op, Feed.from([head], { verify: false }))
      return id
    })
  }

  /**
   * The full id of the live task `idOrPrefix` names, read from disk: the ids with a prefix
   * are one id range, so this reads at most two tasks whatever the list holds.
   * @throws TODO_UNKNOWN_TASK when none matches; TODO_AMBIGUOUS_ID when several do
   */
  async resolveId(idOrPrefix: string): Promise<string> {
    const prefix = String(idOrPrefix).toLowerCase()
    const { items } = prefix ? await this.tasks.query({ gte: prefix, limit: 2 }) : { items: [] }
    const ids = items.map((item) => item.id).filter((id) => id.startsWith(prefix))
    if (ids.length === 0) throw new TodoError('TODO_UNKNOWN_TASK', `no task ${idOrPrefix}`)
    if (ids.length > 1) {
      throw new TodoError('TODO_AMBIGUOUS_ID', `${idOrPrefix} names more than one task`)
    }
    return ids[0]!
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writing.then(fn)
    this.#writing = run.catch(() => undefined)
    return run
  }
}
