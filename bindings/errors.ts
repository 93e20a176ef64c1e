/**
 * The one error type of the project: a failure named by the real system's errno.
 *
 * Xen returns `-errno` from hypercalls and libxenctrl sets `errno`; Xenstore replies with the
 * errno *name*; Solaris system calls set `errno`. Every public entry of affinity-engine that
 * rejects its input throws an {@link AffinityError} whose `errno` is the name the real system
 * would use, and whose message says what was wrong.
 */

/** errno values by name (Linux numbering, which is what Xen and libxenctrl use on x86). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  E2BIG: 7,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  EISCONN: 106,
  /** oxenstored's quota error; not a kernel errno (spec xen-hypervisor.md §10.3). */
  EQUOTA: 1001,
} as const;

export type ErrnoName = keyof typeof ERRNO;

export class AffinityError extends Error {
  readonly errno: ErrnoName;
  constructor(errno: ErrnoName, message: string) {
    super(`${errno}: ${message}`);
    this.name = 'AffinityError';
    this.errno = errno;
  }
  /** The numeric errno (Linux numbering). */
  get code(): number {
    return ERRNO[this.errno];
  }
}

/** Throws an {@link AffinityError}; typed `never` so callers can use it in expressions. */
export function fail(errno: ErrnoName, message: string): never {
  throw new AffinityError(errno, message);
}

/** The errno name of a number (for replies such as Xenstore's `XS_ERROR`); undefined if unknown. */
export function errnoName(code: number): ErrnoName | undefined {
  for (const [name, value] of Object.entries(ERRNO)) if (value === code) return name as ErrnoName;
  return undefined;
}

export function isAffinityError(e: unknown): e is AffinityError {
  return e instanceof AffinityError;
}
