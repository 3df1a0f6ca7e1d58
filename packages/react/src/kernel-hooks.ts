import type { Peer, SimpleKernel } from '@picostack/kernel'
import { type Readable, sliceView } from '@picostack/views'
import { useMemo } from 'react'
import { useKernelOr } from './kernel-context.ts'
import { useView } from './use-view.ts'

/**
 * The connected peers (`kernel.connections`), re-rendering when one connects or leaves.
 * @param kernel - default: the provider's
 * @throws REACT_NO_KERNEL without a kernel
 */
export function usePeers(kernel?: SimpleKernel): Peer[] {
  return useView(useKernelOr(kernel).connections)
}

/**
 * Whether any peer is connected (`kernel.online`), re-rendering only when that flips.
 * @param kernel - default: the provider's
 * @throws REACT_NO_KERNEL without a kernel
 */
export function useOnline(kernel?: SimpleKernel): boolean {
  return useView(useKernelOr(kernel).online)
}

/**
 * The value of a slice (or a collection that keeps a snapshot) of the kernel's store,
 * re-rendering when it changes.
 * @param name - the registered name
 * @param kernel - default: the provider's
 * @throws REACT_NO_KERNEL without a kernel; STORE_INVALID_SLICE when nothing is registered as `name`
 */
export function useSlice<S>(name: string, kernel?: SimpleKernel): S {
  const store = useKernelOr(kernel).store
  const view: Readable<S> = useMemo(() => sliceView<S>(store, name), [store, name])
  return useView(view)
}
