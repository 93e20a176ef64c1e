import { describe, expect, it } from 'vitest';
import { AffinityError, fail } from '../../bindings/errors.js';
import { bitStringToCpumap } from '../../bindings/mask/formats/bitstring.js';
import { createStore } from '../../bindings/xen/xenstore/store.js';
import { dom0Store } from '../../bindings/xen/xenopsd/build.js';
import { XEN_VCPUAFFINITY_HARD } from '../../bindings/xen/xenctrl.js';
import {
  getFlags,
  runXenguest,
  strtoull,
  type XenguestArgs,
  type XenguestStore,
  type XenguestXenctrl,
} from '../../bindings/xen/xenguest.js';

/** A map-backed store: the obvious model of read/write of a Xenstore tree. */
function mapStore(entries: Record<string, string>): XenguestStore & { data: Map<string, string> } {
  const data = new Map(Object.entries(entries).map(([k, v]) => [`/local/domain/7/platform/${k}`, v]));
  return { data, read: (p) => data.get(p) ?? null, write: (p, v) => void data.set(p, v) };
}

interface Call {
  vcpu: number;
  hard: number[];
  flags: number;
}
/** Records libxenctrl calls; the credit scheduler and failures are configurable. */
function recordingXc(options: { nrCpus?: number; credit?: boolean; failVcpu?: number; hvm?: boolean } = {}) {
  const calls: Call[] = [];
  const credit = { weight: 256, cap: 0 };
  const memory: number[] = [];
  const xc: XenguestXenctrl = {
    cpumapSize: () => Math.ceil((options.nrCpus ?? 8) / 8),
    domainIsHvm: () => options.hvm ?? true,
    vcpuSetAffinity(_domid, vcpu, hard, _soft, flags) {
      if (vcpu === options.failVcpu) fail('EINVAL', 'no online CPU in the hard mask');
      calls.push({ vcpu, hard: Array.from(hard!), flags });
    },
    schedCreditDomainGet() {
      if (options.credit === false) fail('EINVAL', 'not credit1');
      return { ...credit };
    },
    schedCreditDomainSet(_domid, p) {
      Object.assign(credit, p);
    },
    populateGuestMemory(_domid, bytes) {
      memory.push(bytes);
    },
  };
  return { xc, calls, credit, memory };
}

const ARGS: XenguestArgs = { mode: 'hvm_build', domid: 7, storePort: 1, storeDomid: 0, consolePort: 2, consoleDomid: 0, memMaxMib: 1024, memStartMib: 1024 };

describe('configure_vcpus bit-string parsing (spec §6 vectors)', () => {
  it.each([
    ['1100', 1, [0x03]],
    ['0000000011', 2, [0x00, 0x03]],
    ['1x1,1', 1, [0x15]],
    ['11111111111', 1, [0xff]],
    ['', 1, [0x00]],
    ['0101 1111', 1, [0b11101010]],
    ['true', 1, [0x00]],
  ])('%j with %i map bytes → %j', (s, bytes, want) => {
    expect(Array.from(bitStringToCpumap(s as string, bytes as number))).toEqual(want);
  });

  it('only the first cpumap-size×8 characters count', () => {
    expect(Array.from(bitStringToCpumap('0'.repeat(16) + '1', 2))).toEqual([0, 0]);
    expect(Array.from(bitStringToCpumap('0'.repeat(15) + '1', 2))).toEqual([0, 0x80]);
  });
});

describe('get_flags: platform keys, defaults and C conversions (spec §5)', () => {
  it('missing keys: 0, hpet 1, acpi flags -1 with "0" written back', () => {
    const store = mapStore({});
    const f = getFlags(recordingXc().xc, store, ARGS, []);
    expect(f).toMatchObject({ vcpus: 0, vcpuAffinity: [], vcpuWeight: 0, vcpuCap: 0, nx: 0, pae: 0, hpet: 1, acpi: -1, acpiS3: -1, acpiS4: -1, timeoffset: 0n });
    expect(store.data.get('/local/domain/7/platform/acpi')).toBe('0');
    expect(store.data.get('/local/domain/7/platform/acpi_s3')).toBe('0');
  });

  it('numbers: true/false in any case, hex, octal, trailing junk, errors ⇒ 0', () => {
    const f = getFlags(recordingXc().xc, mapStore({ nx: 'TRUE', pae: 'False', apic: '0x10', tsc_mode: '010', viridian: '3abc', 'x87-fip-width': '99999999999999999999999', nomigrate: 'yes' }), ARGS, []);
    expect(f).toMatchObject({ nx: 1, pae: 0, apic: 16, tscMode: 8, viridian: 3, x87FipWidth: 0, nomigrate: 0 });
  });

  it('weight and cap are uint16: 65536 wraps to 0 (= unchanged), 65537 to 1, -1 to 65535', () => {
    expect(getFlags(recordingXc().xc, mapStore({ 'vcpu/weight': '65536', 'vcpu/cap': '65537' }), ARGS, [])).toMatchObject({ vcpuWeight: 0, vcpuCap: 1 });
    expect(getFlags(recordingXc().xc, mapStore({ 'vcpu/weight': '-1', 'vcpu/cap': ' 50' }), ARGS, [])).toMatchObject({ vcpuWeight: 65535, vcpuCap: 50 });
  });

  it('per-vCPU affinity strings are read raw for n < vcpu/number; absent = unset', () => {
    const log: string[] = [];
    const f = getFlags(recordingXc().xc, mapStore({ 'vcpu/number': '3', 'vcpu/0/affinity': '1100', 'vcpu/2/affinity': 'zz', 'vcpu/3/affinity': '1' }), ARGS, log);
    expect(f.vcpuAffinity).toEqual(['1100', null, 'zz']);
    expect(log).toContain('vcpu/1/affinity:unset');
  });

  it('hvmloader flags: "true" fixed up to "1", "5" to "1", "0" kept; hpet empty ⇒ 1, "0" ⇒ 0', () => {
    const store = mapStore({ acpi: 'true', acpi_s3: '5', acpi_s4: '0', hpet: '' });
    const log: string[] = [];
    const f = getFlags(recordingXc().xc, store, ARGS, log);
    expect(f).toMatchObject({ acpi: 1, acpiS3: 5, acpiS4: 0, hpet: 1 });
    expect(store.data.get('/local/domain/7/platform/acpi')).toBe('1');
    expect(store.data.get('/local/domain/7/platform/acpi_s3')).toBe('1');
    expect(log).toContain("HVMLoader error: Fixing up key '/local/domain/7/platform/acpi' from 'true' to '1'");
    expect(getFlags(recordingXc().xc, mapStore({ hpet: '0' }), ARGS, []).hpet).toBe(0);
  });

  it('timeoffset is a signed 64-bit decimal; nested-virt forces nomigrate', () => {
    const f = getFlags(recordingXc().xc, mapStore({ timeoffset: '-3600x', 'nested-virt': 'true' }), ARGS, []);
    expect(f).toMatchObject({ timeoffset: -3600n, nestedVirt: 1, nomigrate: 1 });
  });

  it('cores-per-socket: HVM only; a non-divisor of the vCPU count is fatal', () => {
    expect(getFlags(recordingXc().xc, mapStore({ 'vcpu/number': '4', 'cores-per-socket': '2' }), ARGS, []).coresPerSocket).toBe(2);
    expect(getFlags(recordingXc({ hvm: false }).xc, mapStore({ 'vcpu/number': '4', 'cores-per-socket': '3' }), ARGS, []).coresPerSocket).toBe(0);
    const r = runXenguest(recordingXc().xc, mapStore({ 'vcpu/number': '4', 'cores-per-socket': '3' }), ARGS);
    expect(r.exitStatus).toBe(1);
    expect(r.log.at(-1)).toMatch(/Bad cores\/socket setting: 3 \(nr vcpus 4\)/);
  });

  it('viridian_stimer defaults on with -vgpu when reference_tsc is set and stimer is not', () => {
    expect(getFlags(recordingXc().xc, mapStore({ viridian_reference_tsc: '1' }), { ...ARGS, vgpu: true }, []).viridianStimer).toBe(1);
    expect(getFlags(recordingXc().xc, mapStore({ viridian_reference_tsc: '1', viridian_stimer: 'false' }), { ...ARGS, vgpu: true }, []).viridianStimer).toBe(0);
    expect(getFlags(recordingXc().xc, mapStore({ viridian_reference_tsc: '1' }), ARGS, []).viridianStimer).toBe(0);
  });

  it('strtoull: sign, prefixes and overflow', () => {
    expect(strtoull('  +42')).toBe(42n);
    expect(strtoull('-1')).toBe(2n ** 64n - 1n);
    expect(strtoull('0x')).toBe(0n);
    expect(strtoull('0777')).toBe(511n);
    expect(strtoull('08')).toBe(0n);
    expect(strtoull('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(strtoull('18446744073709551616')).toBeNull();
    expect(strtoull('abc')).toBe(0n);
  });
});

describe('configure_vcpus and the build (spec §6)', () => {
  it('HARD affinity for each vCPU with a string, in vCPU order, soft untouched', () => {
    const { xc, calls } = recordingXc({ nrCpus: 10 });
    const r = runXenguest(xc, mapStore({ 'vcpu/number': '3', 'vcpu/0/affinity': '0000000011', 'vcpu/2/affinity': '1' }), ARGS);
    expect(r.exitStatus).toBe(0);
    expect(calls).toEqual([
      { vcpu: 0, hard: [0x00, 0x03], flags: XEN_VCPUAFFINITY_HARD },
      { vcpu: 2, hard: [0x01, 0x00], flags: XEN_VCPUAFFINITY_HARD },
    ]);
  });

  it('a failed xc_vcpu_setaffinity ends xenguest with status 1, naming the call and errno', () => {
    const { xc, calls, memory } = recordingXc({ failVcpu: 1 });
    const r = runXenguest(xc, mapStore({ 'vcpu/number': '2', 'vcpu/0/affinity': '1', 'vcpu/1/affinity': '' }), ARGS);
    expect(r).toMatchObject({ exitStatus: 1, errno: 'EINVAL' });
    expect(r.log.at(-1)).toBe('error: xenguest: xc_vcpu_setaffinity: [22] EINVAL');
    expect(calls).toHaveLength(1);
    expect(memory).toEqual([]);
  });

  it('weight/cap: nonzero replaces, 0 keeps Xen\'s value', () => {
    const a = recordingXc();
    runXenguest(a.xc, mapStore({ 'vcpu/weight': '512', 'vcpu/cap': '0' }), ARGS);
    expect(a.credit).toEqual({ weight: 512, cap: 0 });
    const b = recordingXc();
    b.credit.cap = 30;
    runXenguest(b.xc, mapStore({ 'vcpu/weight': '65536', 'vcpu/cap': '50' }), ARGS);
    expect(b.credit).toEqual({ weight: 256, cap: 50 });
  });

  it('a non-credit1 scheduler: weight/cap silently ignored, build succeeds', () => {
    const { xc } = recordingXc({ credit: false });
    const r = runXenguest(xc, mapStore({ 'vcpu/weight': '512' }), ARGS);
    expect(r.exitStatus).toBe(0);
    expect(r.log).toContain('Failed to get credit scheduler parameters: scheduler not enabled?');
  });

  it('memory (mem_start_mib) is populated after affinity; -mem_pnode is logged; hvm_info online bitmap from vcpu/current', () => {
    const { xc, memory } = recordingXc();
    const r = runXenguest(xc, mapStore({ 'vcpu/number': '10', 'vcpu/current': '9' }), { ...ARGS, memStartMib: 512, memPnode: 3 });
    expect(memory).toEqual([512 * 2 ** 20]);
    expect(r.log).toContain('mem_pnode: 3');
    expect(r.hvmInfo!.nrVcpus).toBe(10);
    expect(Array.from(r.hvmInfo!.vcpuOnline.subarray(0, 3))).toEqual([0xff, 0x01, 0x00]);
    expect(runXenguest(recordingXc().xc, mapStore({}), { ...ARGS, mode: 'linux_build' }).hvmInfo).toBeUndefined();
  });

  it('a bad command line is exit status 1', () => {
    const r = runXenguest(recordingXc().xc, mapStore({}), { ...ARGS, mode: 'bogus' as never });
    expect(r).toMatchObject({ exitStatus: 1, errno: 'EINVAL' });
    expect(runXenguest(recordingXc().xc, mapStore({}), { ...ARGS, memStartMib: -1 }).exitStatus).toBe(1);
  });

  it('errors that are not AffinityErrors are bugs and propagate', () => {
    const { xc } = recordingXc();
    xc.populateGuestMemory = () => {
      throw new TypeError('bug');
    };
    expect(() => runXenguest(xc, mapStore({}), ARGS)).toThrow(TypeError);
    expect(new AffinityError('EINVAL', 'x').code).toBe(22);
  });
});

describe('get_flags against the real Xenstore store', () => {
  it.each(['cxenstored', 'oxenstored'] as const)('%s: values read back, missing keys, acpi written back', (flavour) => {
    const xs = createStore({ flavour });
    const store = dom0Store(xs);
    store.write('/local/domain/7/platform/vcpu/number', '2');
    store.write('/local/domain/7/platform/vcpu/1/affinity', '0110');
    store.write('/local/domain/7/platform/vcpu/weight', '70000');
    store.write('/local/domain/7/platform/acpi', 'True');
    const f = getFlags(recordingXc().xc, store, ARGS, []);
    expect(f).toMatchObject({ vcpus: 2, vcpuAffinity: [null, '0110'], vcpuWeight: 70000 % 65536, acpi: 1, acpiS3: -1 });
    expect(xs.read(0, '/local/domain/7/platform/acpi').toString()).toBe('1');
    expect(xs.read(0, '/local/domain/7/platform/acpi_s3').toString()).toBe('0');
  });
});

describe('fatal libxenctrl failures around configure_vcpus', () => {
  it('xc_domain_getinfo failing (no such domain) and the memory build failing are exit status 1, named', () => {
    const a = recordingXc();
    a.xc.domainIsHvm = () => fail('ESRCH', 'no domain');
    expect(runXenguest(a.xc, mapStore({}), ARGS).log.at(-1)).toBe('error: xenguest: xc_domain_getinfo: [3] ESRCH');
    const b = recordingXc();
    b.xc.populateGuestMemory = () => fail('ENOMEM', 'heap exhausted');
    const r = runXenguest(b.xc, mapStore({}), ARGS);
    expect(r).toMatchObject({ exitStatus: 1, errno: 'ENOMEM' });
    expect(r.log.at(-1)).toBe('error: xenguest: xc_dom_boot_mem_init: [12] ENOMEM');
  });
});
