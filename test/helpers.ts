// Small helpers shared by the tests.
import { isAffinityError } from '../bindings/errors.js';

/** The errno name a call throws as an AffinityError, or 'ok'; any other exception propagates. */
export function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isAffinityError(e)) return e.errno;
    throw e;
  }
  return 'ok';
}
