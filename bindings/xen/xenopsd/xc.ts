/**
 * libxenctrl as xenopsd and xenguest call it: the `xc_*` functions of xenctrl.ts (0 / -1 with
 * errno) wrapped the way xen-api's OCaml `Xenctrl` stubs wrap them — a failed call raises, here
 * as an AffinityError carrying the errno. Everything goes through an open `xc_interface`.
 *
 * Two things libxenctrl has that the hypervisor model does not:
 * - `xc_domain_getinfo`'s HVM flag: the domain's type is remembered from `xc_domain_create`'s
 *   config (as Xen records XEN_DOMINF_hvm_guest from it).
 * - memory claims (`xc_domain_claim_pages`, per node as latest xenopsd's xenctrlext asks, or
 *   host-wide): upstream Xen has no per-node claims (spec xen-hypervisor.md §3.6) and the model
 *   has no claims at all, so both answer ENOSYS — the "claims unsupported" path of spec §2.4
 *   (affinity still set, no -mem_pnode, the host-wide claim's error ignored).
 */
import { AffinityError, errnoName, fail } from '../../errors.js';
import { populateMemory } from '../hypervisor/domain.js';
import { domainOf } from '../hypervisor/domctl.js';
import {
  XEN_VCPUAFFINITY_HARD,
  XEN_VCPUAFFINITY_SOFT,
  xc_cputopoinfo,
  xc_domain_create,
  xc_domain_destroy,
  xc_domain_max_vcpus,
  xc_domain_node_getaffinity,
  xc_get_cpumap_size,
  xc_get_max_cpus,
  xc_nodemap_alloc,
  xc_numainfo,
  xc_physinfo,
  xc_sched_credit_domain_get,
  xc_sched_credit_domain_set,
  xc_vcpu_getaffinity,
  xc_vcpu_setaffinity,
  type XcInterface,
} from '../xenctrl.js';
import type { ToolstackXenctrl } from './build.js';

/** Raises for a -1 return, with the errno libxenctrl left in `xch.errno`. */
function check(xch: XcInterface, rc: number, call: string): void {
  if (rc < 0) fail(errnoName(xch.errno) ?? 'EINVAL', `${call} returned -1, errno ${xch.errno}`);
}

/** The toolstack's libxenctrl over an open xc_interface. */
export function toolstackXenctrl(xch: XcInterface): ToolstackXenctrl {
  const hvm = new Map<number, boolean>();
  return {
    cpumapSize: () => xc_get_cpumap_size(xch),
    maxCpus: () => xc_get_max_cpus(xch),

    domainCreate({ hvm: isHvm, maxVcpus }) {
      const out = { domid: 0 };
      check(xch, xc_domain_create(xch, out, { maxVcpus }), 'xc_domain_create');
      hvm.set(out.domid, isHvm);
      return out.domid;
    },
    domainDestroy(domid) {
      check(xch, xc_domain_destroy(xch, domid), 'xc_domain_destroy');
      hvm.delete(domid);
    },
    domainIsHvm(domid) {
      domainOf(xch.hv, domid);
      return hvm.get(domid) ?? false;
    },
    domainMaxVcpus: (domid, max) => check(xch, xc_domain_max_vcpus(xch, domid, max), 'xc_domain_max_vcpus'),

    vcpuSetAffinity: (domid, vcpu, hard, soft, flags) => check(xch, xc_vcpu_setaffinity(xch, domid, vcpu, hard, soft, flags), 'xc_vcpu_setaffinity'),
    vcpuGetAffinity(domid, vcpu) {
      const hard = new Uint8Array(xc_get_cpumap_size(xch));
      const soft = new Uint8Array(hard.length);
      check(xch, xc_vcpu_getaffinity(xch, domid, vcpu, hard, soft, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT), 'xc_vcpu_getaffinity');
      return { hard, soft };
    },
    domainNodeGetAffinity(domid) {
      const map = xc_nodemap_alloc(xch);
      check(xch, xc_domain_node_getaffinity(xch, domid, map), 'xc_domain_node_getaffinity');
      return map;
    },

    schedCreditDomainGet(domid) {
      const sdom = { weight: 0, cap: 0 };
      check(xch, xc_sched_credit_domain_get(xch, domid, sdom), 'xc_sched_credit_domain_get');
      return sdom;
    },
    schedCreditDomainSet: (domid, sdom) => check(xch, xc_sched_credit_domain_set(xch, domid, sdom), 'xc_sched_credit_domain_set'),

    // xc_dom_boot_mem_init → XENMEM_populate_physmap: the heap allocator places the pages.
    populateGuestMemory: (domid, bytes) => void populateMemory(xch.hv, domainOf(xch.hv, domid), bytes),

    freeMemory() {
      const info: { free_pages?: number } = {};
      check(xch, xc_physinfo(xch, info), 'xc_physinfo');
      return info.free_pages! * 4096;
    },
    nodeMemory() {
      const meminfo: { memsize: number; memfree: number }[] = [];
      check(xch, xc_numainfo(xch, { value: xch.hv.engine.nrNodes }, meminfo, null), 'xc_numainfo');
      return meminfo.map((m) => ({ free: m.memfree, claimed: 0 }));
    },
    numaDistances() {
      const count = { value: xch.hv.engine.nrNodes };
      const flat: number[] = [];
      check(xch, xc_numainfo(xch, count, null, flat), 'xc_numainfo');
      return Array.from({ length: count.value }, (_, i) => flat.slice(i * count.value, (i + 1) * count.value));
    },
    cputopoinfo() {
      const topo: { core: number; socket: number; node: number }[] = [];
      check(xch, xc_cputopoinfo(xch, { value: xc_get_max_cpus(xch) }, topo), 'xc_cputopoinfo');
      return topo;
    },

    domainClaimPages(domid, node) {
      domainOf(xch.hv, domid);
      // Raised on every latest-mode build: no stack trace is needed for this expected answer.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      const error = new AffinityError('ENOSYS', node === null ? 'xc_domain_claim_pages: claims are not modelled' : `xc_domain_claim_pages on node ${node}: Xen has no per-node claims`);
      Error.stackTraceLimit = limit;
      throw error;
    },
  };
}
