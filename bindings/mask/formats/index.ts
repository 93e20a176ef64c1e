export { formatCpulist, parseCpulist, parseNodelist, parseIdList, formatRuns } from './cpulist.js';
export { formatLinuxHex, parseLinuxHex } from './linux-hex.js';
export { formatHwlocBitmap, formatHwlocTaskset, parseHwlocBitmap } from './hwloc.js';
export { parseXlCpulist, formatXl, type NodeCpus } from './xl.js';
export { fromXenctlBitmap, toXenctlBitmap } from './xenctl.js';
export { formatBitString, bitStringToCpumap, parseBitString } from './bitstring.js';
