import type { SimpleKernel } from '@picostack/kernel'
import { createContext, createElement, type ReactNode, useContext } from 'react'
import { ReactBindingError } from './errors.ts'

const KernelContext = createContext<SimpleKernel | undefined>(undefined)

/** Props of {@link KernelProvider}. */
export interface KernelProviderProps {
  /** The booted kernel the components below use. */
  kernel: SimpleKernel
  /** The components below. */
  children?: ReactNode
}

/**
 * Gives the components below a kernel (`useKernel`, `usePeers`, `useOnline`, `useSlice`).
 * Boot the kernel before rendering it (or render a placeholder until `boot()` resolves).
 */
export function KernelProvider({ kernel, children }: KernelProviderProps): ReactNode {
  return createElement(KernelContext.Provider, { value: kernel }, children)
}

/**
 * The kernel of the nearest {@link KernelProvider}, typed as your subclass.
 * @throws REACT_NO_KERNEL outside a `KernelProvider`
 */
export function useKernel<K extends SimpleKernel = SimpleKernel>(): K {
  const kernel = useContext(KernelContext)
  if (!kernel) {
    throw new ReactBindingError('REACT_NO_KERNEL', 'useKernel() needs a <KernelProvider> above it')
  }
  return kernel as K
}

/** The given kernel, or the provider's: for hooks that take an optional kernel. */
export function useKernelOr(kernel: SimpleKernel | undefined): SimpleKernel {
  const provided = useContext(KernelContext)
  const found = kernel ?? provided
  if (!found) {
    throw new ReactBindingError(
      'REACT_NO_KERNEL',
      'pass a kernel or render a <KernelProvider> above',
    )
  }
  return found
}
