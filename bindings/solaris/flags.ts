/**
 * The processor_affinity(2) flag ABI (spec §7.1) and its validation (§7.3). The real values are
 * not public (OPEN-3), so these are the model's own, in the layout the spec recommends.
 */
import { fail } from '../errors.js';

export const PA_QUERY = 0x0001;
export const PA_CLEAR = 0x0002;
export const PA_TYPE_CPU = 0x0010;
export const PA_TYPE_PG = 0x0020;
export const PA_TYPE_LGRP = 0x0040;
export const PA_AFF_WEAK = 0x0100;
export const PA_AFF_STRONG = 0x0200;
export const PA_NEGATIVE = 0x0400;
export const PA_INH_EXEC = 0x1000;
export const PA_INH_FORK = 0x2000;
export const PA_INH_THR = 0x4000;
/** Oracle's own NDB code spells them PA_NO_INH_* (OPEN-3): both spellings, same bits. */
export const PA_NO_INH_EXEC = PA_INH_EXEC;
export const PA_NO_INH_FORK = PA_INH_FORK;
export const PA_NO_INH_THR = PA_INH_THR;

export const PA_TYPES = PA_TYPE_CPU | PA_TYPE_PG | PA_TYPE_LGRP;
export const PA_STRENGTH = PA_AFF_WEAK | PA_AFF_STRONG;
export const PA_INH = PA_INH_EXEC | PA_INH_FORK | PA_INH_THR;
/** Flags that only describe an affinity being set. */
export const PA_SET_ONLY = PA_STRENGTH | PA_NEGATIVE | PA_INH;
const PA_KNOWN = PA_QUERY | PA_CLEAR | PA_TYPES | PA_SET_ONLY;

export type PaMode = 'set' | 'query' | 'clear';

export interface PaRequest {
  mode: PaMode;
  /** PA_TYPE_CPU (the default when no type bit is given), PA_TYPE_PG or PA_TYPE_LGRP. */
  type: number;
}

/**
 * Mode selection and flag validation (spec §7.3). Choices: SET without a strength is EINVAL
 * (OPEN-8, as recommended). Strength, PA_NEGATIVE and PA_INH_* with PA_QUERY or PA_CLEAR are
 * EINVAL rather than ignored (spec §7.3-6/7 suggested ignoring): the man page makes querying,
 * clearing and setting mutually exclusive and its Example 6 resets `flags = PA_QUERY` before
 * querying again, i.e. a query's output flags are not a valid query input.
 */
export function decodeFlags(flags: number): PaRequest {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) fail('EINVAL', `flags ${flags} is not a uint32_t`);
  if (flags & ~PA_KNOWN) fail('EINVAL', `flags 0x${flags.toString(16)} has reserved bits 0x${(flags & ~PA_KNOWN).toString(16)}`);
  const types = flags & PA_TYPES;
  if (types & (types - 1)) fail('EINVAL', 'more than one of PA_TYPE_CPU, PA_TYPE_PG, PA_TYPE_LGRP');
  if ((flags & PA_STRENGTH) === PA_STRENGTH) fail('EINVAL', 'both PA_AFF_WEAK and PA_AFF_STRONG');
  if (flags & PA_QUERY && flags & PA_CLEAR) fail('EINVAL', 'PA_QUERY and PA_CLEAR are mutually exclusive');
  const mode: PaMode = flags & PA_QUERY ? 'query' : flags & PA_CLEAR ? 'clear' : 'set';
  if (mode !== 'set' && flags & PA_SET_ONLY) fail('EINVAL', `a ${mode} cannot carry strength, PA_NEGATIVE or PA_INH_* flags`);
  if (mode === 'set' && !(flags & PA_STRENGTH)) fail('EINVAL', 'setting needs PA_AFF_WEAK or PA_AFF_STRONG');
  return { mode, type: types || PA_TYPE_CPU };
}
